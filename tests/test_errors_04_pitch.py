"""Error messages of notebook 04 (pitch): bad input to `get_f0` and `convert_f0` says what to do.

Moved out of the notebook, which keeps two that teach (digital silence, a target without a voiced frame)."""
from __future__ import annotations

import warnings

import pytest
import torch

from hierspeech_nb.audio import load_audio, pad_to_frames
from hierspeech_nb.pitch import convert_f0, get_f0

from conftest import DATA_SAMPLES


@pytest.fixture(scope="module")
def male() -> torch.Tensor:
    return load_audio(DATA_SAMPLES / "lvx_ss01_0880.wav")                 # float32 [1, N], 16 kHz


@pytest.fixture(scope="module")
def f0_tracks(male):
    "(male source F0 on the padded clip, female target F0 on the unpadded prompt), float64 [1, 1, T]."
    female = load_audio(DATA_SAMPLES / "slt_arctic_a0009.wav")
    return get_f0(pad_to_frames(male), progress=False), get_f0(female, progress=False)


@pytest.mark.parametrize("make_input, kwargs, message", [
    (lambda male: torch.zeros(1, 0), {}, "empty"),
    (lambda male: torch.zeros(2, 2, 1600), {}, "mono"),
    (lambda male: (male * 32768).to(torch.int16), {}, "int16"),
    (lambda male: male, {"sr": 22_050}, "resample first"),
    (lambda male: male, {"method": "crepe"}, "unknown method"),
    (lambda male: male, {"on_failure": "ignore"}, "unknown on_failure"),
    (lambda male: torch.full((1, 1600), float("nan")), {}, "NaN"),
])
def test_get_f0_rejects_bad_input(male, make_input, kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_f0(make_input(male), progress=False, **kwargs)


def test_get_f0_names_the_clip_that_yaapt_cannot_track(male):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # pYAAPT's own numpy warnings on its way to failing
        with pytest.raises(RuntimeError, match=r"clip 0 \(200 samples"):
            get_f0(male[:, :200], progress=False)


def test_convert_f0_errors(f0_tracks):
    male_f0, target_f0 = f0_tracks
    unvoiced = torch.zeros(1, 1, 600, dtype=torch.float64)
    with pytest.raises(ValueError, match="source_f0 has no voiced frame"):
        convert_f0(unvoiced, target_f0)
    with pytest.raises(ValueError, match=r"\[B, 1, T\]"):
        convert_f0(male_f0[0, 0], target_f0)
    flat = torch.where(male_f0 > 0, 100.0, 0.0)                       # a monotone source: no spread to standardise
    with pytest.raises(ValueError, match="spread is 0"):
        convert_f0(flat, target_f0)
