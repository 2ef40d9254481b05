"""Error messages of notebook 17 (`hierspeech_nb.denoiser`): bad spectrograms, configs, clips and chunk settings are
refused with a message that names the input, the problem and the fix. The notebook keeps one of these checks (a
batch of clips, refused because the released model's clips would attend to each other), where the error's design
is part of the lesson."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hierspeech_nb.audio import load_audio
from hierspeech_nb.denoiser import build_denoiser, compressed_stft, denoise
from hierspeech_nb.models import create_model
from hierspeech_nb.synthesizer import prompt_with_denoised

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("denoiser", "tiny").eval()


@pytest.fixture(scope="module")
def clean() -> torch.Tensor:
    return load_audio(ROOT / "data_samples" / "allison_vm-msgforwarded.wav")[:, :16_000]   # [1, 16000], 1 s


def test_model_checks_the_spectrogram(model, clean):
    magnitude, phase = compressed_stft(clean, 400, 100, 400, 0.3)
    with pytest.raises(ValueError, match=r"must both be \[B, 201, T\]"):
        model(magnitude[:, :200], phase[:, :200])


def test_build_denoiser_needs_a_config():
    with pytest.raises(ValueError, match="needs a DenoiserConfig"):
        build_denoiser({"dense_channel": 16})


@pytest.mark.parametrize("make_input, options, message", [
    (lambda clean: torch.zeros(1, 16_000), {}, "all zeros"),
    (lambda clean: (clean * 32768).short(), {}, "float tensor"),
    (lambda clean: clean[:, :300], {}, "fewer than the STFT size"),
    (lambda clean: clean, {"chunk_seconds": 1, "overlap_seconds": 1}, "overlap < chunk"),
], ids=["zeros", "int16", "too_short", "overlap"])
def test_denoise_checks_its_input(model, clean, make_input, options, message):
    with pytest.raises(ValueError, match=message):
        denoise(make_input(clean), model, progress=False, **options)


def test_denoise_needs_eval_mode(clean):
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r"call model\.eval\(\)"):
        denoise(clean, create_model("denoiser", "tiny"))


def test_prompt_denoiser_must_keep_the_length(clean):
    with pytest.raises(ValueError, match="must keep the length"):
        prompt_with_denoised(clean, lambda wav: wav[:, :100])
