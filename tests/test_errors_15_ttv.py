"""Error messages of notebook 15 (the TTV model) for bad input: each names the problem and the fix."""
from __future__ import annotations

import pytest
import torch

from hierspeech_nb.config import TTVModelConfig
from hierspeech_nb.models import create_model
from hierspeech_nb.ttv import TextToVec, ttv_infer


def test_width_not_a_multiple_of_the_heads_is_refused():
    with pytest.raises(ValueError, match="multiple of 4"):
        TextToVec(TTVModelConfig(inter_channels=12, hidden_channels=18))


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    ttv = create_model("ttv", "tiny").eval()
    text = torch.randint(1, 100, (2, 11), generator=torch.Generator().manual_seed(0))
    return ttv, text[:1], torch.tensor([11]), text, torch.tensor([11, 9]), torch.randn(1, 80, 50)


def test_length_scale_must_be_positive(tiny):
    ttv, text, text_lengths, _, _, prompt_mel = tiny
    with pytest.raises(ValueError, match="length_scale"):
        ttv_infer(ttv, text, text_lengths, prompt_mel, length_scale=0)


def test_denoise_ratio_needs_two_prompt_rows(tiny):
    ttv, text, text_lengths, _, _, prompt_mel = tiny
    with pytest.raises(ValueError, match="two prompt rows"):
        ttv_infer(ttv, text, text_lengths, prompt_mel, denoise_ratio=0.5)


def test_one_prompt_per_text(tiny):
    ttv, _, _, texts, texts_lengths, prompt_mel = tiny
    with pytest.raises(ValueError, match="one prompt per text"):
        ttv_infer(ttv, texts, texts_lengths, prompt_mel)
