"""`voice_conversion` end to end on real clips from data_samples/ with tiny random weights: output length, finite
values, determinism with a seed, a different sample with another seed, and the documented bad-input errors."""
from __future__ import annotations

import pytest
import torch

from conftest import REPO
from hierspeech_nb import create_model, load_audio, voice_conversion
from hierspeech_nb.semantic import load_mms, tiny_mms


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    synthesizer = create_model("synthesizer", "tiny").eval()
    mms = tiny_mms()                                        # the synthesizer reads 1024-d MMS features
    return synthesizer, mms


@pytest.fixture(scope="module")
def clips():
    lines = [line.split("|") for line in (REPO / "data_samples" / "filelist.txt").read_text().splitlines()]
    source = REPO / next(path for path, _, speaker in lines if speaker == "lvx_ss01")
    prompt = REPO / next(path for path, _, speaker in lines if speaker == "allison")
    return source, prompt


def test_end_to_end(models, clips):
    synthesizer, mms = models
    source, prompt = clips
    first = voice_conversion(source, prompt, synthesizer, mms, seed=1, progress=False)
    assert first.shape == load_audio(source).shape
    assert torch.isfinite(first).all() and first.abs().max() <= 1
    again = voice_conversion(source, prompt, synthesizer, mms, seed=1, progress=False)
    torch.testing.assert_close(again, first, rtol=0, atol=1e-6)
    other = voice_conversion(source, prompt, synthesizer, mms, seed=2, progress=False)
    assert (other - first).abs().max() > 1e-4
    still = voice_conversion(source, prompt, synthesizer, mms, seed=2, noise_scale=0.0, progress=False)
    deterministic = voice_conversion(source, prompt, synthesizer, mms, seed=3, noise_scale=0.0, progress=False)
    torch.testing.assert_close(still, deterministic, rtol=0, atol=1e-6)


def test_tensor_inputs_and_short_prompt_replication(models, clips):
    synthesizer, mms = models
    source, prompt = clips
    prompt_wav = load_audio(prompt)[:, :16000]                  # 1 s: replicated to 3 s inside
    out = voice_conversion(load_audio(source)[0], prompt_wav, synthesizer, mms, seed=0, progress=False)
    assert out.shape == load_audio(source).shape


def test_denoise_ratio_uses_the_denoiser(models, clips):
    synthesizer, mms = models
    source, prompt = clips
    calls = []

    def denoiser(wav):
        calls.append(wav.shape)
        return wav * 0.5
    plain = voice_conversion(source, prompt, synthesizer, mms, seed=0, noise_scale=0.0, progress=False)
    mixed = voice_conversion(source, prompt, synthesizer, mms, seed=0, noise_scale=0.0, denoise_ratio=1.0,
                             denoiser=denoiser, progress=False)
    assert len(calls) == 1 and calls[0][-1] % 1600 == 0     # the prompt is padded to whole 1600-sample blocks
    assert (mixed - plain).abs().max() > 1e-5


@pytest.mark.parametrize("source, prompt, kwargs, error, message", [
    (torch.randn(1, 16000) * 0.1, torch.randn(1, 4000) * 0.1, {}, ValueError, "shorter than 0.5 s"),
    (torch.randn(1, 16000) * 0.1, torch.zeros(1, 16000), {}, ValueError, "is silent"),
    (torch.randn(1, 16000) * 0.1, torch.randn(1, 16000) * 0.1, {"denoise_ratio": 0.5}, ValueError, "needs a `denoiser`"),
    (torch.randn(1, 16000) * 0.1, torch.zeros(2, 2, 100), {}, ValueError, "one mono clip"),
    ("missing.wav", torch.randn(1, 16000) * 0.1, {}, FileNotFoundError, "does not exist"),
    (torch.zeros(1, 16000, dtype=torch.int16), torch.randn(1, 16000), {}, ValueError, "float tensor"),
])
def test_bad_inputs(models, source, prompt, kwargs, error, message):
    synthesizer, mms = models
    with pytest.raises(error, match=message):
        voice_conversion(source, prompt, synthesizer, mms, progress=False, **kwargs)


def test_mms_of_the_wrong_width_is_refused(models):
    synthesizer, _ = models
    with pytest.raises(ValueError, match="1024-d"):
        voice_conversion(torch.randn(1, 16000), torch.randn(1, 16000), synthesizer, load_mms("tiny"))
