"""Error messages of notebook 16b (`hierspeech_nb.speechsr_training`): crops, clip lists and batches are checked
with messages that name the input, the problem and the fix."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hierspeech_nb.models import create_model
from hierspeech_nb.speechsr_training import HighRateClips, collate_clips, speechsr_training_forward

ROOT = Path(__file__).resolve().parents[1]


def clip_paths() -> list[Path]:
    lines = (ROOT / "data_samples" / "filelist_48k.txt").read_text().splitlines()
    return [ROOT / line.split("|")[0] for line in lines if line.strip()]


def test_crop_length_must_fit_16k():
    torch.manual_seed(0)
    model = create_model("speechsr48k", "tiny")
    with pytest.raises(ValueError, match="multiple of 3"):
        speechsr_training_forward(model, torch.randn(2, 1, 9601))


def test_high_rate_clips_checks_its_arguments():
    with pytest.raises(ValueError, match="paths is empty"):
        HighRateClips([], 48_000, 4800)
    with pytest.raises(ValueError, match="must be >= 1"):
        HighRateClips(clip_paths(), 48_000, 0)
    with pytest.raises(ValueError, match="fewer than segment"):
        HighRateClips(clip_paths(), 48_000, 10**6)


def test_collate_refuses_an_empty_batch():
    with pytest.raises(ValueError, match="empty list"):
        collate_clips([])
