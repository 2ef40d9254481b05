"""Error messages of notebooks 19 and 19b (hierspeech_nb.evaluation, evaluation_models) for bad input, moved out of
the lessons.

Needs the `eval` extra (pip install "hierspeech-nb[eval]")."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import DATA_SAMPLES
from hierspeech_nb import evaluation as ev
from hierspeech_nb import evaluation_models as evm
from hierspeech_nb.audio import resample


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    return ev.as_clip(DATA_SAMPLES / "allison_vm-msgforwarded.wav")


@pytest.mark.parametrize("audio, error, message", [
    (torch.zeros(0), ValueError, "empty"),
    (torch.randn(2, 16_000), ValueError, "mix channels down"),
    (torch.randn(100), ValueError, "too short"),
    (torch.ones(16_000, dtype=torch.int16), ValueError, "float tensor"),
])
def test_as_clip_refuses(audio, error, message):
    with pytest.raises(error, match=message):
        ev.as_clip(audio)


def test_dtw_needs_a_non_empty_matrix():
    with pytest.raises(ValueError, match="non-empty"):
        ev.dtw_path(np.zeros((0, 3)))


def test_mcd_refuses_an_unknown_alignment(clean):
    with pytest.raises(ValueError, match="ALIGN_MODES"):
        ev.mel_cepstral_distortion(clean, clean, align="soft")


def test_pesq_needs_time_aligned_clips(clean):
    with pytest.raises(ValueError, match="time-aligned"):
        ev.pesq_score(clean, clean[: clean.size // 2])


def test_wer_needs_reference_words():
    with pytest.raises(ValueError, match="no words"):
        evm.word_error_rate("...", "the cat")


def test_evaluate_errors(clean):
    stretched = resample(torch.from_numpy(clean), 4, 5).numpy()   # 25 % longer: not time-aligned
    with pytest.raises(ValueError, match="one reference per estimate"):
        evm.evaluate_batch([clean], [clean, clean])
    with pytest.raises(ValueError, match="needs `transcript`"):
        evm.evaluate_pair(clean, clean, metrics=("wer",))
    with pytest.raises(ValueError, match="unknown metrics"):
        evm.evaluate_pair(clean, clean, metrics=("utmos",))
    with pytest.raises(ValueError, match="time-aligned"):
        evm.evaluate_pair(clean, stretched, metrics=("pesq",))
