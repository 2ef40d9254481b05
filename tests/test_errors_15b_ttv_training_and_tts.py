"""Error messages of notebook 15b (TTV training and text-to-speech) for bad input: each names the problem and the
fix."""
from __future__ import annotations

import pytest
import torch

from conftest import DATA_SAMPLES
from hierspeech_nb.config import tiny_config
from hierspeech_nb.models import create_model
from hierspeech_nb.ttv import PITCH_SEGMENT_FRAMES, TextToVec, ttv_training_forward
from hierspeech_nb.ttv_training import TTVTask, prompt_mels, text_to_speech, ttv_losses

WIDTH = 16   # MMS, pitch predictor and style encoder width of the narrow test TTV


def narrow_ttv() -> TextToVec:
    torch.manual_seed(0)
    config = tiny_config("ttv")
    return TextToVec(config.model, config.data, w2v_channels=WIDTH, pitch_channels=WIDTH, style_hidden_channels=WIDTH)


def test_a_short_pitch_target_is_refused():
    generator = torch.Generator().manual_seed(0)
    frames = PITCH_SEGMENT_FRAMES + 10
    w2v, mel = torch.randn(1, WIDTH, frames, generator=generator), torch.randn(1, 80, frames, generator=generator)
    text = torch.randint(1, 100, (1, 9), generator=generator)
    output = ttv_training_forward(narrow_ttv(), w2v, torch.tensor([frames]), text, torch.tensor([9]), mel,
                                  generator=generator)
    log_f0 = torch.rand(1, 1, 4 * frames, generator=generator)
    ctc, ctc_lengths = text[:, 1::2], torch.tensor([4])
    with pytest.raises(ValueError, match="too few for pitch segments"):
        ttv_losses(output, w2v, log_f0[..., :100], ctc, ctc_lengths)


def test_a_task_without_a_loss_weight_is_refused():
    no_weights = tiny_config("ttv")
    no_weights.train.c_kl = None
    with pytest.raises(ValueError, match="train.c_kl is not set"):
        TTVTask(no_weights)


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return create_model("ttv", "tiny"), create_model("synthesizer", "tiny")


@pytest.fixture(scope="module")
def prompt_path():
    lines = [line.split("|") for line in (DATA_SAMPLES / "filelist.txt").read_text().splitlines()]
    return DATA_SAMPLES.parent / lines[4][0]


@pytest.mark.parametrize("text, match", [("   ", "is empty"), ("?! ...", "no speakable symbol")])
def test_text_with_nothing_to_say_is_refused(models, prompt_path, text, match):
    ttv, synthesizer = models
    with pytest.raises(ValueError, match=match):
        text_to_speech(text, prompt_path, ttv, synthesizer)


def test_denoise_ratio_needs_a_denoiser(models, prompt_path):
    ttv, synthesizer = models
    with pytest.raises(ValueError, match="needs a `denoiser`"):
        text_to_speech("Hi.", prompt_path, ttv, synthesizer, denoise_ratio=0.5)
    with pytest.raises(ValueError, match="needs a `denoiser`"):
        prompt_mels(prompt_path, denoise_ratio=0.5)


def test_feature_widths_must_match(models, prompt_path):
    _, synthesizer = models
    with pytest.raises(ValueError, match="-d MMS features"):
        text_to_speech("Hi.", prompt_path, narrow_ttv(), synthesizer)
