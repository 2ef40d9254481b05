"""Data loading for GPUs (notebooks 12b and 20): page-locked batches and worker processes by default on CUDA,
workers restarted each epoch (so the crops follow the epoch), and crops whose spectrograms are computed on the
crop alone, bit for bit those of the whole clip."""
from __future__ import annotations

import argparse

import pytest
import torch

from conftest import DATA_SAMPLES
from hierspeech_nb.batches import (STREAM_RATES, SpeechDataset, crop_streams, load_crop, load_streams,
                                   make_dataloader, set_loader_epoch)
from hierspeech_nb.cli import _loader_options, build_parser
from hierspeech_nb.config import tiny_config
from hierspeech_nb.data import preprocess, read_filelist
from hierspeech_nb.semantic import tiny_mms


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    "Four clips of data_samples/, preprocessed with the fast WORLD tracker."
    utterances, cache = read_filelist(DATA_SAMPLES / "filelist.txt")[:4], tmp_path_factory.mktemp("cache")
    preprocess(utterances, cache, tiny_mms(), f0_method="dio", progress=False)
    return utterances, cache, tiny_config("synthesizer").data


def test_crop_spectrograms_equal_those_of_the_whole_clip(cached):
    utterances, cache, data_config = cached
    for utterance in utterances:
        streams = load_streams(utterance, cache, data_config)
        length = streams["length"]
        for frames in (1, 24, length):
            for start in sorted({0, 1, 2, length // 2 - frames // 2, length - frames - 1, length - frames}):
                if not 0 <= start <= length - frames:
                    continue
                cheap, whole = load_crop(utterance, cache, data_config, start, frames), crop_streams(streams, start, frames)
                for key in STREAM_RATES:
                    assert torch.equal(cheap[key], whole[key]), (utterance.path.name, start, frames, key)


def test_dataset_items_are_crops_of_the_whole_clip(cached):
    utterances, cache, data_config = cached
    dataset = SpeechDataset(utterances, cache, data_config, max_frames=30, progress=False)
    dataset.set_epoch(3)
    for index, utterance in enumerate(dataset.utterances):
        item = dataset[index]
        whole = crop_streams(load_streams(utterance, cache, data_config), item["start"], 30)
        assert all(torch.equal(item[key], whole[key]) for key in STREAM_RATES)


def test_loader_options_pin_memory_and_workers_on_cuda():
    defaults = build_parser().parse_args(["train", "synthesizer", "--config", "tiny", "--filelist", "f", "--out", "o"])
    assert defaults.num_workers is None
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert _loader_options(defaults, cpu, 1) == {"num_workers": 0, "pin_memory": False}
    on_gpu = _loader_options(defaults, cuda, 1)
    assert on_gpu["pin_memory"] is True and 1 <= on_gpu["num_workers"] <= 4
    assert _loader_options(argparse.Namespace(num_workers=2), cpu, 1)["num_workers"] == 2


def test_make_dataloader_passes_pin_memory(cached):
    utterances, cache, data_config = cached
    dataset = SpeechDataset(utterances, cache, data_config, max_frames=30, progress=False)
    assert make_dataloader(dataset, 2, pin_memory=True).pin_memory is True
    assert make_dataloader(dataset, 2).pin_memory is False


def test_worker_processes_draw_the_crops_of_each_epoch(cached):
    "Workers are restarted every epoch, which carries set_epoch into them: the same crops as in-process loading."
    utterances, cache, data_config = cached
    dataset = SpeechDataset(utterances, cache, data_config, max_frames=30, progress=False)
    starts = {}
    for workers in (0, 2):
        loader = make_dataloader(dataset, 2, seed=0, num_workers=workers)
        assert not loader.persistent_workers
        for epoch in (0, 1):
            set_loader_epoch(loader, epoch)
            starts[workers, epoch] = [batch["audio"] for batch in loader]
    for epoch in (0, 1):
        assert all(torch.equal(a, b) for a, b in zip(starts[0, epoch], starts[2, epoch]))
    assert not all(torch.equal(a, b) for a, b in zip(starts[0, 0], starts[0, 1]))      # a new epoch, new crops
