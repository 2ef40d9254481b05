"""Error messages of notebook 01 (audio): every bad file or clip gets a message that names it and says what to do.

Moved out of the notebook, which keeps one (a file with NaN/Inf samples, named and counted)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from hierspeech_nb.audio import as_mono_clip, linear_spectrogram, load_audio, resample


def test_load_audio_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("not audio")
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16_000)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="could not be read as audio"):
        load_audio(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="is empty"):
        load_audio(tmp_path / "empty.wav")


def test_resample_rates_must_be_positive():
    with pytest.raises(ValueError, match="must be positive"):
        resample(torch.zeros(1, 100), 0, 16_000)


RAMP = torch.linspace(-0.5, 0.5, 100)


@pytest.mark.parametrize("clip, message", [
    (RAMP.numpy(), "clip must be a float tensor"),
    ((RAMP * 32768).short(), "divide int16"),
    (RAMP.reshape(2, 50), "one mono clip"),                       # two channels or clips
    (torch.tensor(0.5), "one mono clip"),                         # a single number
    (torch.zeros(1, 0), "clip is empty"),
    (torch.tensor([0.1, float("inf"), float("nan")]), "2 NaN/Inf samples of 3"),
])
def test_as_mono_clip_errors(clip, message):
    with pytest.raises(ValueError, match=message):
        as_mono_clip(clip, "clip")


def test_linear_spectrogram_errors():
    with pytest.raises(ValueError, match="mix multi-channel"):
        linear_spectrogram(torch.zeros(1, 2, 3200))
    with pytest.raises(ValueError, match="too short"):
        linear_spectrogram(torch.zeros(1, 100))
