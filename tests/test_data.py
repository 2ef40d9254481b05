"""Tests of the training data pipeline (hierspeech_nb.data and .batches, notebooks 12 and 12b): filelists, the feature cache
(resumable, atomic, skips and counts bad files), aligned crops, collate masks, and the length-bucket sampler
(deterministic, disjoint across DDP ranks). The golden test checks that a cached utterance holds exactly what the
official preprocessing computes (TTV `extract_f0.py` F0, the MMS wrapper's layer 7, `Mels_preprocess` spectrograms).

Tolerances: the golden frame streams use the README's front-end tolerances (log-mel atol 1e-4, power spectrum
rtol 1e-4 / atol 1e-3, w2v rtol/atol 1e-5, YAAPT exact so log-F0 to float32 rounding). Everything else is exact."""
from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import DATA_SAMPLES, w2v_io_clip
from hierspeech_nb.audio import HOP_LENGTH, SAMPLE_RATE, load_audio, mel_spectrogram, pad_to_frames
from hierspeech_nb.blocks import sequence_mask
from hierspeech_nb.config import tiny_config
from hierspeech_nb.batches import LengthBucketSampler, SpeechDataset, collate, make_dataloader, set_loader_epoch
from hierspeech_nb.data import Utterance, cache_path, preprocess, read_filelist, save_atomic, utterance_features
from hierspeech_nb.pitch import F0_FRAMES_PER_FEATURE, f0_to_log
from hierspeech_nb.semantic import (MMS_FEATURE_LAYER, MMSFeatureExtractor, num_mms_frames, tiny_mms,
                                    wav2vec2_from_state_dict)
from hierspeech_nb.synthesizer import synthesizer_training_forward
from hierspeech_nb.text import text_to_ids

FILELIST = DATA_SAMPLES / "filelist.txt"
NUM_CLIPS = 3                                  # real clips preprocessed once for the module (YAAPT ~1 s each)
STREAMS = {"audio": HOP_LENGTH, "linear": 1, "mel": 1, "w2v": 1, "log_f0": F0_FRAMES_PER_FEATURE}


@pytest.fixture(scope="module")
def mms() -> MMSFeatureExtractor:
    return tiny_mms()


@pytest.fixture(scope="module")
def data_config():
    return tiny_config("synthesizer").data


@pytest.fixture(scope="module")
def clips() -> list[Utterance]:
    return read_filelist(FILELIST)[:NUM_CLIPS]


@pytest.fixture(scope="module")
def cache(tmp_path_factory, clips, mms) -> Path:
    cache_dir = tmp_path_factory.mktemp("cache")
    report = preprocess(clips, cache_dir, mms, progress=False)
    assert (report.computed, report.cached, report.skipped) == (NUM_CLIPS, 0, {})
    return cache_dir


def _quiet(function, *args, **kwargs):
    "Call with warnings recorded; return (result, warning messages)."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    return result, [str(w.message) for w in caught]


# --- filelists ---------------------------------------------------------------------------------------------------

def test_filelist_default_root_is_the_list_folders_parent():
    utterances = read_filelist(FILELIST)
    lines = [line for line in FILELIST.read_text().splitlines() if line.strip()]
    assert len(utterances) == len(lines)
    assert all(u.path.is_file() for u in utterances)
    assert utterances[0].path == (DATA_SAMPLES.parent / lines[0].split("|")[0]).absolute()


def test_filelist_root_comments_and_absolute_paths(tmp_path):
    listing = tmp_path / "lists" / "train.txt"
    listing.parent.mkdir()
    listing.write_text("# header\n\nwavs/a.wav| Hello. |spk1\n/abs/b.wav||spk2\n")
    first, second = read_filelist(listing, root=tmp_path / "corpus")
    assert first == Utterance((tmp_path / "corpus" / "wavs" / "a.wav").absolute(), "Hello.", "spk1")
    assert second.path == Path("/abs/b.wav") and second.text == ""
    assert read_filelist(listing)[0].path == (tmp_path / "wavs" / "a.wav").absolute()


@pytest.mark.parametrize("content, message", [
    ("a.wav|text|spk\nb.wav|text\n", "train.txt:2: expected 3 fields"),
    ("a.wav|te|xt|spk\n", "train.txt:1: expected 3 fields"),
    ("|text|spk\n", "train.txt:1: the path field is empty"),
    ("a.wav|text| \n", "train.txt:1: the speaker field is empty"),
    ("\n# nothing\n", "no utterance lines"),
])
def test_filelist_errors_name_file_and_line(tmp_path, content, message):
    listing = tmp_path / "train.txt"
    listing.write_text(content)
    with pytest.raises(ValueError, match=message.replace("|", r"\|")):
        read_filelist(listing)


def test_missing_filelist(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_filelist(tmp_path / "nope.txt")


# --- preprocessing -----------------------------------------------------------------------------------------------

def test_cached_streams_align_with_voice_conversion_framing(cache, clips):
    for utterance in clips:
        cached = torch.load(cache_path(utterance, cache), weights_only=True)
        wav = load_audio(utterance.path)
        frames = pad_to_frames(wav, 1280).shape[-1] // HOP_LENGTH
        assert cached["num_samples"] == wav.shape[-1]
        assert cached["w2v"].shape == (1024, frames) and cached["w2v"].dtype == torch.float32
        assert cached["log_f0"].shape == (1, 4 * frames) and cached["log_f0"].dtype == torch.float32
        assert frames == num_mms_frames(wav.shape[-1])


def test_preprocess_is_resumable(tmp_path, clips, mms, cache):
    # a second run finds everything
    again = preprocess(clips, cache, mms, progress=False)
    assert (again.computed, again.cached, again.skipped) == (0, NUM_CLIPS, {})
    # an interrupted run: copy the cache, delete one file -> only that one is computed
    partial = tmp_path / "partial"
    for utterance in clips[1:]:
        target = cache_path(utterance, partial)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(cache_path(utterance, cache).read_bytes())
    resumed = preprocess(clips, partial, mms, progress=False)
    assert (resumed.computed, resumed.cached, resumed.total) == (1, NUM_CLIPS - 1, NUM_CLIPS)
    torch.testing.assert_close(torch.load(cache_path(clips[0], partial), weights_only=True)["w2v"],
                               torch.load(cache_path(clips[0], cache), weights_only=True)["w2v"], rtol=0, atol=0)


def test_write_is_atomic(tmp_path, clips, mms, monkeypatch):
    "A crash inside torch.save leaves neither the target nor a temporary file; the next run computes it."
    real_save = torch.save

    def crash(values, target, *args, **kwargs):        # target: an open file (or a path)
        if hasattr(target, "write"):
            target.write(b"half a file")
        else:
            Path(target).write_bytes(b"half a file")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        preprocess(clips[:1], tmp_path, mms, progress=False)
    assert list(tmp_path.rglob("*")) == [] or all(p.is_dir() for p in tmp_path.rglob("*"))
    monkeypatch.setattr(torch, "save", real_save)
    report = preprocess(clips[:1], tmp_path, mms, progress=False)
    assert report.computed == 1


def _bad_files(folder: Path) -> dict[str, Utterance]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "garbage.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt this is not audio" + os.urandom(64))
    (folder / "empty.wav").write_bytes(b"")
    sf.write(folder / "short.wav", 0.1 * np.random.default_rng(0).standard_normal(SAMPLE_RATE // 5), SAMPLE_RATE)
    sf.write(folder / "silent.wav", np.zeros(SAMPLE_RATE), SAMPLE_RATE)            # 1 s of digital silence
    sf.write(folder / "nan.wav", np.full(SAMPLE_RATE, np.nan, dtype=np.float32), SAMPLE_RATE, subtype="FLOAT")
    names = ["garbage", "empty", "short", "silent", "nan", "missing"]
    return {name: Utterance(folder / f"{name}.wav", name, "bad") for name in names}


def test_corrupt_short_silent_and_missing_files_are_skipped_and_counted(tmp_path, clips, mms):
    bad = _bad_files(tmp_path / "bad")
    report, messages = _quiet(preprocess, clips[:1] + list(bad.values()), tmp_path / "cache", mms, progress=False)
    assert (report.computed, report.cached, len(report.skipped)) == (1, 0, len(bad))
    reasons = {Path(path).stem: reason for path, reason in report.skipped.items()}
    assert reasons["missing"] == "audio file not found"
    assert reasons["garbage"].startswith("unreadable audio") and reasons["empty"].startswith("unreadable audio")
    assert reasons["nan"].startswith("unreadable audio") and "NaN" in reasons["nan"]
    assert reasons["short"].startswith("too short (0.20 s")
    assert reasons["silent"].startswith("F0 tracking failed")
    assert any(f"skipped {len(bad)} of {len(bad) + 1}" in message for message in messages)
    assert len(list((tmp_path / "cache").rglob("*.pt"))) == 1
    # a second run: the good one is cached, the bad ones are skipped again, nothing crashes
    again, _ = _quiet(preprocess, clips[:1] + list(bad.values()), tmp_path / "cache", mms, progress=False)
    assert (again.computed, again.cached, len(again.skipped)) == (0, 1, len(bad))


def test_damaged_cache_file_is_recomputed(tmp_path, clips, mms, cache):
    target = cache_path(clips[0], tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(cache_path(clips[0], cache).read_bytes()[:200])
    report = preprocess(clips[:1], tmp_path, mms, progress=False)
    assert (report.computed, report.cached) == (1, 0)


def test_cache_with_other_f0_settings_is_refused(clips, mms, cache):
    with pytest.raises(ValueError, match="new cache_dir"):
        preprocess(clips[:1], cache, mms, f0_max=1100.0, progress=False)
    with pytest.raises(ValueError, match="unknown f0_method"):
        preprocess(clips[:1], cache, mms, f0_method="crepe", progress=False)


def test_bad_argument_types(tmp_path, clips, mms):
    with pytest.raises(ValueError, match="list of Utterance"):
        preprocess(["a.wav"], tmp_path, mms, progress=False)
    with pytest.raises(ValueError, match="MMSFeatureExtractor"):
        preprocess(clips, tmp_path, mms.feature_extractor, progress=False)


# --- golden: a cached utterance is what the official preprocessing computes ---------------------------------------

def test_cache_matches_official_preprocessing(tmp_path, golden_dir, data_config):
    audio_fixture = torch.load(golden_dir / "frontend_audio.pt", weights_only=True)
    w2v_io = torch.load(golden_dir / "w2v_tiny_io.pt", weights_only=True)
    w2v_config = json.loads((golden_dir / "w2v_tiny_config.json").read_text())
    model = wav2vec2_from_state_dict(w2v_config, torch.load(golden_dir / "w2v_tiny_state_dict.pt", weights_only=True))
    mms = MMSFeatureExtractor(model.wav2vec2, MMS_FEATURE_LAYER)
    clip = w2v_io_clip(audio_fixture, w2v_io)              # the clip of w2v_tiny_io.pt, found from the fixtures
    path = tmp_path / f"{clip}.wav"
    sf.write(path, audio_fixture[f"{clip}/raw_int16"][0].numpy(), audio_fixture[f"{clip}/raw_sample_rate"],
             subtype="PCM_16")
    utterance = Utterance(path, "", "ref")
    assert preprocess([utterance], tmp_path / "cache", mms, progress=False).computed == 1
    cached = torch.load(cache_path(utterance, tmp_path / "cache"), weights_only=True)
    assert cached["w2v"].shape[-1] == audio_fixture[f"{clip}/n_w2v_frames"]
    torch.testing.assert_close(cached["w2v"], w2v_io["out_layer7"][0], rtol=1e-5, atol=1e-5)
    official_f0 = audio_fixture[f"{clip}/f0_yaapt_extract_f0_pad1280"][0]   # TTV extract_f0.py: f0_max 400 Hz
    torch.testing.assert_close(cached["log_f0"], f0_to_log(official_f0), rtol=0, atol=0)
    item = SpeechDataset([utterance], tmp_path / "cache", data_config, min_seconds=0, progress=False)[0]
    torch.testing.assert_close(item["audio"], audio_fixture[f"{clip}/wav16k_pad1280"], rtol=0, atol=0)
    torch.testing.assert_close(item["mel"], audio_fixture[f"{clip}/mel_pad1280"][0], rtol=0, atol=1e-4)
    torch.testing.assert_close(item["linear"], audio_fixture[f"{clip}/linear_spec_pad1280"][0], rtol=1e-4, atol=1e-3)


# --- dataset -----------------------------------------------------------------------------------------------------

def test_item_streams_are_aligned(cache, clips, data_config):
    dataset = SpeechDataset(clips, cache, data_config, progress=False)
    assert len(dataset) == NUM_CLIPS and dataset.skipped == {}
    for index, utterance in enumerate(clips):
        item = dataset[index]
        frames = item["length"]
        assert frames == dataset.lengths[index] == num_mms_frames(load_audio(utterance.path).shape[-1])
        for key, rate in STREAMS.items():
            assert item[key].shape[-1] == rate * frames, key
        assert item["linear"].shape[0] == 641 and item["mel"].shape[0] == 80 and item["w2v"].shape[0] == 1024
        torch.testing.assert_close(item["audio"], pad_to_frames(load_audio(utterance.path), 1280), rtol=0, atol=0)
        torch.testing.assert_close(item["mel"], mel_spectrogram(item["audio"][0], data_config), rtol=0, atol=0)
        assert (item["speaker"], item["path"]) == (utterance.speaker, str(utterance.path))


@pytest.mark.parametrize("max_frames", [1, 37, 100])
def test_crops_are_aligned_reproducible_and_vary_with_epoch(cache, clips, data_config, max_frames):
    full = SpeechDataset(clips, cache, data_config, progress=False)
    cropped = SpeechDataset(clips, cache, data_config, max_frames=max_frames, seed=5, progress=False)
    twin = SpeechDataset(clips, cache, data_config, max_frames=max_frames, seed=5, progress=False)
    for index in range(len(clips)):
        whole = full[index]
        starts = set()
        for epoch in range(4):
            cropped.set_epoch(epoch)
            twin.set_epoch(epoch)
            crop = cropped[index]
            start, length = crop["start"], crop["length"]
            assert length == min(max_frames, whole["length"]) == cropped.lengths[index]
            assert 0 <= start <= whole["length"] - length
            for key, rate in STREAMS.items():
                torch.testing.assert_close(crop[key], whole[key][:, rate * start: rate * (start + length)],
                                           rtol=0, atol=0)
            assert twin[index]["start"] == start
            starts.add(start)
        assert len(starts) > 1                          # every clip is longer than 100 frames (2 s)


def test_dataset_skips_missing_stale_short_and_untranscribed(tmp_path, cache, clips, mms, data_config):
    # a copy of one clip whose file is changed after preprocessing (stale), one never preprocessed, one untranscribed
    folder = tmp_path / "clips"
    folder.mkdir()
    wav = load_audio(clips[0].path)[0].numpy()
    sf.write(folder / "stale.wav", wav, SAMPLE_RATE)
    sf.write(folder / "untranscribed.wav", wav, SAMPLE_RATE)
    stale = Utterance(folder / "stale.wav", "text", "x")
    untranscribed = Utterance(folder / "untranscribed.wav", " ", "x")
    preprocess([stale, untranscribed], cache, mms, progress=False)
    sf.write(folder / "stale.wav", wav[: len(wav) // 2], SAMPLE_RATE)
    never = Utterance(folder / "never.wav", "text", "x")
    sf.write(never.path, wav, SAMPLE_RATE)
    dataset, messages = _quiet(SpeechDataset, clips + [stale, never, untranscribed], cache, data_config,
                               with_text=True, progress=False)
    assert len(dataset) == NUM_CLIPS
    reasons = {Path(path).stem: reason for path, reason in dataset.skipped.items()}
    assert reasons["stale"].startswith("stale cache")
    assert reasons["never"].startswith("no cached features")
    assert reasons["untranscribed"] == "empty transcript"
    assert any("skipped 3 of 6" in message for message in messages)
    longest = max(load_audio(u.path).shape[-1] for u in clips) / SAMPLE_RATE
    with pytest.raises(ValueError, match="none of the"):
        _quiet(SpeechDataset, clips, cache, data_config, min_seconds=longest + 1, progress=False)


def test_dataset_text_ids(cache, clips, data_config):
    dataset = SpeechDataset(clips, cache, data_config, with_text=True, progress=False)
    for index, utterance in enumerate(clips):
        ids = dataset[index]["text_ids"]
        assert ids.dtype == torch.int64
        assert torch.equal(ids, text_to_ids(utterance.text, add_blank=data_config.add_blank))


def test_dataset_rejects_other_frame_rates(cache, clips, data_config):
    import copy
    other = copy.deepcopy(data_config)
    other.hop_length = 256
    with pytest.raises(ValueError, match="hop_length 256"):
        SpeechDataset(clips, cache, other, progress=False)
    with pytest.raises(ValueError, match="max_frames"):
        SpeechDataset(clips, cache, data_config, max_frames=0, progress=False)


# --- collate -----------------------------------------------------------------------------------------------------

def test_collate_shapes_padding_and_masks(cache, clips, data_config):
    dataset = SpeechDataset(clips, cache, data_config, with_text=True, progress=False)
    items = [dataset[i] for i in range(len(dataset))]
    batch = collate(items)
    lengths = torch.tensor([item["length"] for item in items])
    longest = int(lengths.max())
    assert batch["lengths"].dtype == torch.int64 and torch.equal(batch["lengths"], lengths)
    expected = {"audio": (1, 320), "linear": (641, 1), "mel": (80, 1), "w2v": (1024, 1), "log_f0": (1, 4)}
    mask = sequence_mask(lengths, longest)                                            # [B, 1, T]
    for key, (channels, rate) in expected.items():
        assert batch[key].shape == (len(items), channels, rate * longest), key
        row_mask = mask.repeat_interleave(rate, dim=-1)                                # [B, 1, rate T]
        assert (batch[key] * (1 - row_mask)).abs().sum() == 0, f"{key}: padding must be zero"
        for row, item in enumerate(items):
            assert torch.equal(batch[key][row, :, : rate * item["length"]], item[key])
    text_lengths = torch.tensor([len(item["text_ids"]) for item in items])
    assert torch.equal(batch["text_lengths"], text_lengths)
    assert batch["text_ids"].shape == (len(items), int(text_lengths.max())) and batch["text_ids"].dtype == torch.int64
    assert batch["speakers"] == [item["speaker"] for item in items]
    assert batch["paths"] == [item["path"] for item in items]


def test_collate_rejects_misaligned_or_mixed_items(cache, clips, data_config):
    dataset = SpeechDataset(clips, cache, data_config, progress=False)
    item = dict(dataset[0])
    item["log_f0"] = item["log_f0"][:, : item["length"]]            # the forgotten x4
    with pytest.raises(ValueError, match="log_f0 frames"):
        collate([item])
    with_text = dict(dataset[1], text_ids=torch.tensor([0, 5, 0]))
    with pytest.raises(ValueError, match="some items have text_ids"):
        collate([dataset[0], with_text])
    with pytest.raises(ValueError, match="empty list"):
        collate([])


def test_batch_feeds_the_training_forward(cache, clips, data_config):
    config = tiny_config("synthesizer")
    from hierspeech_nb.synthesizer import build_synthesizer
    torch.manual_seed(0)
    model = build_synthesizer(config)
    dataset = SpeechDataset(clips, cache, config.data, max_frames=60, progress=False)
    batch = next(iter(make_dataloader(dataset, batch_size=2)))
    keys = ("audio", "linear", "mel", "w2v", "log_f0", "lengths")
    out = synthesizer_training_forward(model, **{key: batch[key] for key in keys},
                                       segment_frames=config.train.segment_size // config.data.hop_length,
                                       generator=torch.Generator().manual_seed(0))
    assert out.audio.shape == out.audio_target.shape
    assert torch.isfinite(out.kl_acoustic)


# --- sampler -----------------------------------------------------------------------------------------------------

LENGTHS = torch.randint(20, 800, (203,), generator=torch.Generator().manual_seed(0)).tolist()


def _epoch(sampler: LengthBucketSampler, epoch: int, start_batch: int = 0) -> list[list[int]]:
    sampler.set_epoch(epoch, start_batch)
    return list(sampler)


def test_sampler_is_deterministic_given_seed_and_epoch():
    first, second = LengthBucketSampler(LENGTHS, 8, seed=1), LengthBucketSampler(LENGTHS, 8, seed=1)
    assert _epoch(first, 3) == _epoch(second, 3)
    assert _epoch(first, 3) != _epoch(first, 4)
    assert _epoch(first, 3) != _epoch(LengthBucketSampler(LENGTHS, 8, seed=2), 3)
    # resuming mid-epoch gives the rest of the same epoch
    assert _epoch(first, 3, start_batch=5) == _epoch(second, 3)[5:]
    assert len(first) == len(_epoch(second, 3)) - 5


def test_sampler_covers_every_item_once_and_groups_lengths():
    sampler = LengthBucketSampler(LENGTHS, 8, seed=0, pool_batches=4)
    batches = _epoch(sampler, 0)
    assert sorted(i for batch in batches for i in batch) == list(range(len(LENGTHS)))
    assert len(batches) == len(sampler) == math.ceil(len(LENGTHS) / 8)
    # padding: far less than random batches of the same size
    def padding(batches):
        return sum(max(LENGTHS[i] for i in b) * len(b) - sum(LENGTHS[i] for i in b) for b in batches)
    order = torch.randperm(len(LENGTHS), generator=torch.Generator().manual_seed(0)).tolist()
    random_batches = [order[i: i + 8] for i in range(0, len(order), 8)]
    assert padding(batches) < 0.5 * padding(random_batches)                  # pools of 4 batches: a third here
    whole_pool = _epoch(LengthBucketSampler(LENGTHS, 8, seed=0), 0)           # default pools hold all 203 items
    assert padding(whole_pool) < 0.1 * padding(random_batches)


def test_sampler_without_shuffle_is_sorted_within_pools():
    sampler = LengthBucketSampler(LENGTHS, 8, shuffle=False, pool_batches=1000)
    flat = [i for batch in _epoch(sampler, 0) for i in batch]
    assert [LENGTHS[i] for i in flat] == sorted(LENGTHS)
    assert _epoch(sampler, 0) == _epoch(sampler, 7)


@pytest.mark.parametrize("num_replicas", [2, 3, 4, 8])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("size, batch_size", [(203, 8), (11, 2), (17, 4), (9, 3)])
def test_ranks_get_disjoint_batches_and_the_same_number(num_replicas, drop_last, size, batch_size):
    lengths = LENGTHS[:size]
    try:
        samplers = [LengthBucketSampler(lengths, batch_size, seed=4, num_replicas=num_replicas, rank=rank,
                                        drop_last=drop_last) for rank in range(num_replicas)]
    except ValueError as error:     # too little data for this many ranks: must be said, not silently wrong
        assert "cannot give" in str(error)
        return
    for epoch in range(3):
        plans = [_epoch(sampler, epoch) for sampler in samplers]
        assert len({len(plan) for plan in plans}) == 1 and len(plans[0]) == len(samplers[0])
        seen = [i for plan in plans for batch in plan for i in batch]
        assert len(seen) == len(set(seen)), "ranks overlap"
        assert all(0 < len(batch) <= batch_size for plan in plans for batch in plan)
        if drop_last:
            assert all(len(batch) == batch_size for plan in plans for batch in plan)
        else:
            assert sorted(seen) == list(range(size)), "items lost"


def test_sampler_errors():
    with pytest.raises(ValueError, match="drop_last=True"):
        LengthBucketSampler([5, 6, 7], 1, num_replicas=2)
    with pytest.raises(ValueError, match="outside"):
        LengthBucketSampler([5, 6, 7], 1, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="batch_size"):
        LengthBucketSampler([5, 6, 7], 0)
    with pytest.raises(ValueError, match="start_batch"):
        LengthBucketSampler([5, 6, 7], 1).set_epoch(0, start_batch=4)


# --- data loader -------------------------------------------------------------------------------------------------

def test_loader_with_workers_equals_loader_without(cache, clips, data_config):
    "Crops are seeded by (seed, epoch, index), so worker processes and resumption give the same batches."
    dataset = SpeechDataset(clips, cache, data_config, max_frames=40, progress=False)
    plain, workers = make_dataloader(dataset, 2, seed=3), make_dataloader(dataset, 2, seed=3, num_workers=2)
    for epoch in (0, 1):
        set_loader_epoch(plain, epoch)
        set_loader_epoch(workers, epoch)
        for a, b in zip(list(plain), list(workers), strict=True):
            assert a["paths"] == b["paths"]
            assert torch.equal(a["audio"], b["audio"]) and torch.equal(a["log_f0"], b["log_f0"])
    set_loader_epoch(plain, 1)
    full_epoch = list(plain)
    set_loader_epoch(plain, 1, start_batch=1)
    resumed = list(plain)
    assert len(resumed) == len(full_epoch) - 1
    assert all(torch.equal(a["w2v"], b["w2v"]) for a, b in zip(resumed, full_epoch[1:]))


def test_save_atomic_syncs_the_file_and_then_its_folder(tmp_path, monkeypatch):
    "The bytes reach the disk before the rename, and the rename itself is flushed (one helper for caches and checkpoints)."
    import stat
    import hierspeech_nb.training
    synced, real_fsync = [], os.fsync

    def recording_fsync(descriptor):
        synced.append("folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    path = save_atomic({"x": torch.arange(3)}, tmp_path / "cache" / "a.pt")
    assert synced == ["file", "folder"]
    assert torch.load(path, weights_only=True)["x"].tolist() == [0, 1, 2]
    assert [p.name for p in path.parent.iterdir()] == ["a.pt"]          # no temporary left behind
    assert hierspeech_nb.training.save_atomic is save_atomic            # checkpoints use the same function
