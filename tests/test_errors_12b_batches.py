"""Bad-input messages of notebook 12b (crops, dataset, collate, sampler): each error names the input, the problem
and the fix. Moved out of the notebook; none needs a feature cache, so the checks run in a second."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from conftest import DATA_SAMPLES
from hierspeech_nb.batches import LengthBucketSampler, SpeechDataset, collate, crop_streams, load_streams
from hierspeech_nb.config import tiny_config
from hierspeech_nb.data import Utterance

FILELIST = DATA_SAMPLES / "filelist.txt"
LENGTHS = [130, 270, 150, 90, 300, 210, 180, 120, 250, 160, 200]   # 11 items, like data_samples/


def _item(frames: int, text: bool = False) -> dict:
    "A synthetic, aligned dataset item of `frames` 50 Hz frames."
    item = {"audio": torch.zeros(1, 320 * frames), "linear": torch.zeros(641, frames), "mel": torch.zeros(80, frames),
            "w2v": torch.zeros(1024, frames), "log_f0": torch.zeros(1, 4 * frames), "length": frames,
            "speaker": "spk", "path": f"clip_{frames}.wav"}
    if text:
        item["text_ids"] = torch.tensor([1, 2, 3])
    return item


def test_crop_outside_the_utterance():
    streams = _item(120)
    with pytest.raises(ValueError, match="do not fit"):
        crop_streams(streams, 120 - 10, 20)


def test_dataset_and_stream_errors(tmp_path):
    config = tiny_config("synthesizer")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # it also warns that all 11 are skipped
        with pytest.raises(ValueError, match="run preprocess"):
            SpeechDataset(FILELIST, tmp_path / "empty", config.data, progress=False)
    with pytest.raises(ValueError, match="max_frames"):
        SpeechDataset(FILELIST, tmp_path, config.data, max_frames=0)
    with pytest.raises(FileNotFoundError, match="run preprocess"):
        load_streams(Utterance(Path("/nowhere.wav"), "", "x"), tmp_path, config.data)
    other_rate = tiny_config("synthesizer").data
    other_rate.hop_length = 256
    with pytest.raises(ValueError, match="hop_length 256"):
        SpeechDataset(FILELIST, tmp_path, other_rate)


def test_collate_errors():
    with pytest.raises(ValueError, match="empty list"):
        collate([])
    misaligned = {**_item(50), "log_f0": torch.zeros(1, 100)}
    with pytest.raises(ValueError, match="log_f0 frames"):
        collate([misaligned])
    with pytest.raises(ValueError, match="some items have text_ids"):
        collate([_item(50), _item(40, text=True)])


def test_sampler_errors():
    with pytest.raises(ValueError, match="drop_last=True"):
        LengthBucketSampler(LENGTHS, 1, num_replicas=4, rank=0)
    with pytest.raises(ValueError, match="outside"):
        LengthBucketSampler(LENGTHS, 2, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="batch_size"):
        LengthBucketSampler(LENGTHS, 0)
    with pytest.raises(ValueError, match="start_batch"):
        LengthBucketSampler(LENGTHS, 2).set_epoch(0, start_batch=99)
