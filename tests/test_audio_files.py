"""`load_audio` refuses a file whose samples are not all finite, as `as_mono_clip` refuses such a tensor: the
message names the file, counts the bad samples and says what to do."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from hierspeech_nb.audio import load_audio


def test_float_wav_with_nan_and_inf_is_refused(tmp_path):
    samples = np.full(1600, 0.1, dtype=np.float32)
    samples[[3, 7]] = np.nan
    samples[11] = np.inf
    samples[12] = -np.inf
    path = tmp_path / "bad.wav"
    sf.write(path, np.stack([samples, np.zeros_like(samples)], 1), 16_000, subtype="FLOAT")  # stereo
    assert np.isnan(sf.read(path)[0]).sum() == 2                      # the file really holds them
    with pytest.raises(ValueError) as error:
        load_audio(path)
    message = str(error.value)
    assert str(path) in message and "4 NaN/Inf samples of 3200" in message and "re-export" in message


def test_mel_filterbank_cached_in_inference_mode_serves_training(monkeypatch):
    "The cached filterbank is a normal tensor even when first built inside inference_mode, so a loss can use it."
    import hierspeech_nb.audio as audio
    monkeypatch.setattr(audio, "_MEL_BANKS", {})
    with torch.inference_mode():
        audio.mel_spectrogram(torch.randn(1, 3200))
    wav = torch.randn(1, 3200, requires_grad=True)
    audio.mel_spectrogram(wav).sum().backward()
    assert wav.grad is not None and wav.grad.abs().sum() > 0
