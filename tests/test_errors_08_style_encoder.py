"""Error messages of notebook 08 (style encoder): bad prompts, masks and dropout settings say what to do.

Moved out of the notebook, which keeps the one that teaches (a linear spectrogram is not a log-mel prompt)."""
from __future__ import annotations

import re

import pytest
import torch

from hierspeech_nb.style import GatedConv1d, NullStyle, StyleEncoder, style_dropout


def test_gated_conv_needs_an_odd_kernel():
    with pytest.raises(ValueError, match="must be odd"):
        GatedConv1d(8, kernel_size=4)


@pytest.fixture(scope="module")
def style_encoder() -> StyleEncoder:
    return StyleEncoder().eval()


def test_prompt_needs_a_batch_axis(style_encoder):
    with pytest.raises(ValueError, match=re.escape("[B, 80, T]")):
        style_encoder(torch.zeros(80, 50))


def test_mask_must_come_from_sequence_mask(style_encoder):
    with pytest.raises(ValueError, match="sequence_mask"):
        style_encoder(torch.zeros(2, 80, 50), torch.ones(2, 50))


def test_prompt_without_valid_frames_is_refused(style_encoder):
    mask = (torch.arange(50) < torch.tensor([50, 0])[:, None]).float()[:, None]   # [2, 1, 50], row 1 empty
    with pytest.raises(ValueError, match="no valid"):
        style_encoder(torch.zeros(2, 80, 50), mask)


def test_null_style_needs_a_batch():
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        NullStyle()(0)


@pytest.mark.parametrize("styles, p, message", [
    (torch.randn(10, 256), 1.5, re.escape("in [0, 1]")),
    (torch.randn(10, 256, 1), 0.1, "squeeze"),
])
def test_style_dropout_rejects_bad_input(styles, p, message):
    with pytest.raises(ValueError, match=message):
        style_dropout(styles, torch.randn(1, 256), p)
