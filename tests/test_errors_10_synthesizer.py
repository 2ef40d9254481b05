"""Bad-input messages of notebook 10 (the synthesizer): each error names the input, the problem and the fix.
Moved out of the notebook, which keeps the one whose design is its lesson (a prompt too short to take a voice from)."""
from __future__ import annotations

import re

import pytest
import torch

from hierspeech_nb.config import tiny_config
from hierspeech_nb.semantic import load_mms, tiny_mms
from hierspeech_nb.synthesizer import (DENOISER_PROMPT_MULTIPLE, SynthesizerTrn, as_waveform, prompt_with_denoised,
                                       voice_conversion)

FRAMES = 64


@pytest.fixture(scope="module")
def model():
    config = tiny_config("synthesizer")
    torch.manual_seed(0)
    return SynthesizerTrn(config.model, config.data).eval()


@pytest.fixture(scope="module")
def mms():
    "A random MMS of the synthesizer's width (1024-d features), one layer."
    return tiny_mms()


def _inputs():
    w2v, lengths = torch.randn(1, 1024, FRAMES), torch.tensor([FRAMES])
    log_f0 = torch.log(torch.full((1, 1, 4 * FRAMES), 120.0) + 1)
    return w2v, lengths, log_f0, torch.randn(2, 80, 150)


@pytest.mark.parametrize("change, message", [
    (dict(log_f0_frames=-4), "expected 4 x 64"),
    (dict(denoise_ratio=0.5, prompts=1), "two prompt rows"),
    (dict(denoise_ratio=1.5, prompts=2), "[0, 1]"),
])
def test_convert_bad_arguments(model, change, message):
    w2v, lengths, log_f0, prompt_mel = _inputs()
    log_f0 = log_f0[..., : log_f0.shape[-1] + change.get("log_f0_frames", 0)]
    with pytest.raises(ValueError, match=re.escape(message)):
        model.convert(w2v, lengths, log_f0, prompt_mel[: change.get("prompts", 1)],
                      denoise_ratio=change.get("denoise_ratio", 0.0))


@pytest.mark.parametrize("audio, message", [
    (torch.zeros(2, 5), "one mono clip"),
    (torch.zeros(0), "prompt is empty"),
    (torch.zeros(5, dtype=torch.int16), "float tensor"),
])
def test_as_waveform_bad_tensors(audio, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        as_waveform(audio, "prompt")


def test_denoiser_must_keep_the_length():
    with pytest.raises(ValueError, match="must keep the length"):
        prompt_with_denoised(torch.ones(1, 4000), lambda wav: wav[:, :100])
    assert DENOISER_PROMPT_MULTIPLE == 1600


def test_voice_conversion_bad_inputs(model, mms):
    speech, silence = torch.randn(1, 16_000) * 0.1, torch.zeros(1, 16_000)
    with pytest.raises(ValueError, match="1024-d"):
        voice_conversion(speech, speech, model, load_mms("tiny"))
    with pytest.raises(ValueError, match="is silent"):
        voice_conversion(speech, silence, model, mms)
    with pytest.raises(ValueError, match="needs a `denoiser`"):
        voice_conversion(speech, speech, model, mms, denoise_ratio=0.5)
    with pytest.raises(ValueError, match="one mono clip"):
        voice_conversion(speech, torch.zeros(2, 2, 100), model, mms)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        voice_conversion("missing.wav", speech, model, mms)
