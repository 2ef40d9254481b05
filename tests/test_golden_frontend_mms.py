"""Golden MMS tests: our wav2vec 2.0 loading, official input padding and layer-7 features against the official
`Wav2vec2` wrapper's outputs in ../shared/reference/golden/w2v_tiny_*.

Tolerance: `torch.testing.assert_close(rtol=1e-5, atol=1e-5)` on every float tensor, as the golden README
recommends for `w2v_*` (the official code in float64 differs from float32 by at most 2.9e-6). Padding is exact."""
from __future__ import annotations

import json

import pytest
import torch

from hierspeech_nb.semantic import (MMS_FEATURE_LAYER, MMSFeatureExtractor, extract_semantic_features, load_mms,
                                    load_wav2vec2, num_mms_frames, prepare_mms_input, wav2vec2_from_state_dict,
                                    wav2vec2_hidden_state)

from conftest import w2v_io_clip

TOLERANCE = dict(rtol=1e-5, atol=1e-5)   # golden README, section "Synthesizer", recommendation for w2v_* and synth_*


@pytest.fixture(scope="module")
def w2v_config(golden_dir) -> dict:
    return json.loads((golden_dir / "w2v_tiny_config.json").read_text())


@pytest.fixture(scope="module")
def w2v_state_dict(golden_dir) -> dict:
    return torch.load(golden_dir / "w2v_tiny_state_dict.pt", weights_only=True)


@pytest.fixture(scope="module")
def w2v_io(golden_dir) -> dict:
    return torch.load(golden_dir / "w2v_tiny_io.pt", weights_only=True)


@pytest.fixture(scope="module")
def audio_fixture(golden_dir) -> dict:
    return torch.load(golden_dir / "frontend_audio.pt", weights_only=True)


@pytest.fixture(scope="module")
def clip(audio_fixture, w2v_io) -> str:
    "The clip whose 1280- then reflect-padded samples are `w2v_tiny_io.pt` `input` (found from the fixtures)."
    return w2v_io_clip(audio_fixture, w2v_io)


@pytest.fixture(scope="module")
def model(w2v_config, w2v_state_dict):
    # the config keeps two non-Wav2Vec2Config fields (transformers_version_used, feature_layer): our loader drops them
    return wav2vec2_from_state_dict(w2v_config, w2v_state_dict)


def _legacy_names(state_dict: dict) -> dict:
    "The hub checkpoint's spelling of the positional conv's weight norm (weight_g / weight_v)."
    return {key.replace("parametrizations.weight.original0", "weight_g")
               .replace("parametrizations.weight.original1", "weight_v"): value.clone()
            for key, value in state_dict.items()}


def _raw_clip(audio_fixture, name: str) -> torch.Tensor:
    return audio_fixture[f"{name}/raw_int16"].float() / 32768   # [1, N], what torchaudio.load gives for PCM_16


def test_fixture_feature_layer_is_ours(w2v_config):
    assert w2v_config["feature_layer"] == MMS_FEATURE_LAYER


def test_prepare_mms_input_is_exact(audio_fixture, w2v_io, clip):
    prepared = prepare_mms_input(_raw_clip(audio_fixture, clip))
    assert prepared.shape == w2v_io["input"].shape
    assert torch.equal(prepared, w2v_io["input"])
    for name in audio_fixture["clip_names"]:
        prepared = prepare_mms_input(_raw_clip(audio_fixture, name))
        head, tail = audio_fixture[f"{name}/w2v_input_head80"], audio_fixture[f"{name}/w2v_input_tail80"]
        assert torch.equal(prepared[:, :head.shape[-1]], head), name
        assert torch.equal(prepared[:, -tail.shape[-1]:], tail), name


def test_frame_count(audio_fixture, w2v_io, clip):
    for name in audio_fixture["clip_names"]:
        assert num_mms_frames(int(audio_fixture[f"{name}/n_samples"])) == audio_fixture[f"{name}/n_w2v_frames"]
        assert num_mms_frames(int(audio_fixture[f"{name}/n_samples"])) == audio_fixture[f"{name}/n_mel_frames_pad1280"]
    n_samples = int(audio_fixture[f"{clip}/n_samples"])
    assert w2v_io["out_layer7"].shape[-1] == num_mms_frames(n_samples)
    assert w2v_io["out_layer7"].shape[-1] == audio_fixture[f"{clip}/n_samples_pad1280"] // 320


def test_full_model_matches_official(model, w2v_io, w2v_config):
    with torch.inference_mode():
        outputs = model.wav2vec2(w2v_io["input"], output_hidden_states=True)
        official_wrapper = wav2vec2_hidden_state(model, w2v_io["input"], w2v_config["feature_layer"])
    channel_first = lambda x: x.permute(0, 2, 1)   # noqa: E731  [B, T, C] -> [B, C, T]
    torch.testing.assert_close(channel_first(outputs.hidden_states[0]), w2v_io["hidden_state_0"], **TOLERANCE)
    torch.testing.assert_close(channel_first(outputs.hidden_states[w2v_config["feature_layer"]]),
                               w2v_io["hidden_state_7"], **TOLERANCE)
    torch.testing.assert_close(channel_first(outputs.last_hidden_state), w2v_io["last_hidden_state"], **TOLERANCE)
    torch.testing.assert_close(outputs.extract_features, w2v_io["extract_features"], **TOLERANCE)
    torch.testing.assert_close(official_wrapper, w2v_io["out_layer7"], **TOLERANCE)


def test_truncated_extractor_matches_official(model, w2v_io, w2v_config, audio_fixture, clip):
    layer = w2v_config["feature_layer"]
    extractor = MMSFeatureExtractor(model.wav2vec2, layer)
    assert len(extractor.layers) == layer < len(model.wav2vec2.encoder.layers)
    with torch.inference_mode():
        from_prepared = extractor.encode(w2v_io["input"])
        from_raw_clip = extractor(_raw_clip(audio_fixture, clip))            # forward pads itself
        before_layers = MMSFeatureExtractor(model.wav2vec2, 0).encode(w2v_io["input"])
    torch.testing.assert_close(from_prepared, w2v_io["out_layer7"], **TOLERANCE)
    torch.testing.assert_close(from_raw_clip, w2v_io["out_layer7"], **TOLERANCE)
    torch.testing.assert_close(before_layers, w2v_io["hidden_state_0"], **TOLERANCE)
    # the final encoder LayerNorm must not be applied to layer 7: the fixture tells the two apart
    with torch.inference_mode():
        normed = model.wav2vec2.encoder.layer_norm(from_prepared.transpose(1, 2)).transpose(1, 2)
    assert (normed - w2v_io["out_layer7"]).abs().max() > 100 * TOLERANCE["atol"]


def test_extract_semantic_features(model, w2v_io, audio_fixture, clip):
    extractor = MMSFeatureExtractor(model.wav2vec2, MMS_FEATURE_LAYER)
    samples = _raw_clip(audio_fixture, clip)
    for wav in (samples, samples[:, None]):                               # [B, T] and [B, 1, T]
        features = extract_semantic_features(wav, extractor)
        assert not features.requires_grad
        torch.testing.assert_close(features, w2v_io["out_layer7"], **TOLERANCE)
    batch = extract_semantic_features(torch.cat([samples, 0.5 * samples]), extractor, device="cpu")
    torch.testing.assert_close(batch[:1], w2v_io["out_layer7"], **TOLERANCE)


def test_legacy_weight_norm_names_load(w2v_config, w2v_state_dict, w2v_io):
    legacy = _legacy_names(w2v_state_dict)
    assert any(key.endswith("weight_g") for key in legacy) and not any("parametrizations" in key for key in legacy)
    model = wav2vec2_from_state_dict(w2v_config, legacy)
    with torch.inference_mode():
        features = wav2vec2_hidden_state(model, w2v_io["input"], w2v_config["feature_layer"])
    torch.testing.assert_close(features, w2v_io["out_layer7"], **TOLERANCE)


@pytest.mark.parametrize("spelling", ["parametrizations", "legacy"])
def test_load_mms_from_local_folder(tmp_path, w2v_config, w2v_state_dict, w2v_io, spelling):
    # a folder like `hf download facebook/mms-300m --local-dir DIR` makes: config.json + weights
    (tmp_path / "config.json").write_text(json.dumps(w2v_config))
    state_dict = _legacy_names(w2v_state_dict) if spelling == "legacy" else {k: v.clone() for k, v in
                                                                             w2v_state_dict.items()}
    torch.save(state_dict, tmp_path / "pytorch_model.bin")
    mms = load_mms(tmp_path, num_layers=w2v_config["feature_layer"])
    assert not any(parameter.requires_grad for parameter in mms.parameters())
    with torch.inference_mode():
        torch.testing.assert_close(mms.encode(w2v_io["input"]), w2v_io["out_layer7"], **TOLERANCE)


@pytest.mark.parametrize("name", ["missing-local-folder", "hierspeech-nb-tests/no-such-model"])
def test_offline_error_says_how_to_get_weights(tmp_path, name):
    name_or_path = tmp_path / name if name == "missing-local-folder" else name
    for loader in (load_mms, load_wav2vec2):
        with pytest.raises(FileNotFoundError) as error:       # an OSError, as the command line expects
            loader(name_or_path, local_files_only=True)
        message = str(error.value)
        assert len(message.splitlines()) == 1
        assert str(name_or_path) in message
        assert "hf download facebook/mms-300m" in message and "--local-dir" in message and "'tiny'" in message
        assert isinstance(error.value.__cause__, OSError)


def test_tiny_model():
    mms = load_mms("tiny")
    assert not mms.training and len(mms.layers) == MMS_FEATURE_LAYER
    wav = 0.1 * torch.randn(2, 1, 5000, generator=torch.Generator().manual_seed(0))
    features = extract_semantic_features(wav, mms)
    assert features.shape == (2, mms.hidden_size, num_mms_frames(5000))
    torch.testing.assert_close(extract_semantic_features(wav, load_mms("tiny")), features, rtol=0, atol=0)  # seeded
    assert not torch.equal(extract_semantic_features(wav, load_mms("tiny", seed=1)), features)


@pytest.mark.parametrize("wav, message", [
    (torch.zeros(16_000), "add a batch axis"),
    (torch.zeros(1, 2, 16_000), "mix channels down"),
    (torch.zeros(2, 1, 1, 16_000), "must be mono audio"),
    (torch.zeros(1, 16_000, dtype=torch.int16), "wav.float() / 32768"),
    (torch.zeros(1, 0), "is empty"),
    (torch.zeros(1, 399), "fewer than one MMS frame"),
    (torch.zeros(1, 399).numpy(), "must be a torch.Tensor"),
])
def test_bad_input_is_rejected(wav, message):
    mms = load_mms("tiny")
    for function in (extract_semantic_features, lambda wav, mms: mms(wav), lambda wav, mms: prepare_mms_input(wav)):
        with pytest.raises(ValueError) as error:
            function(wav, mms)
        assert message in str(error.value)
    if isinstance(wav, torch.Tensor) and wav.dim() == 2 and wav.is_floating_point():
        with pytest.raises(ValueError) as error:
            mms.encode(wav)                                                 # the prepared-input path checks too
        assert message in str(error.value)


def test_num_layers_out_of_range():
    model = load_wav2vec2("tiny")
    depth = len(model.wav2vec2.encoder.layers)
    with pytest.raises(ValueError, match=f"outside 0..{depth}"):
        MMSFeatureExtractor(model.wav2vec2, depth + 1)
    with pytest.raises(ValueError, match="outside"):
        load_mms("tiny", num_layers=-1)
