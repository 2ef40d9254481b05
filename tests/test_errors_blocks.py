"""Error messages of the building blocks for bad input (notebooks 05, 05b, 05c), moved out of the lessons.

Each check names the input, the problem and the fix; the notebooks keep only the checks that test a property."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from hierspeech_nb.activations import AMPBlock1, kaiser_sinc_filter1d
from hierspeech_nb.attentions import MultiHeadAttention
from hierspeech_nb.blocks import WN, remove_weight_norm, sequence_mask, weight_norm


# ------------------------------------------------------------------------------------ 05_masks_and_wavenet
def test_sequence_mask_needs_1d_lengths():
    with pytest.raises(ValueError, match="1-D"):
        sequence_mask(torch.tensor([[3, 1]]))


def test_sequence_mask_max_length_not_shorter_than_longest():
    with pytest.raises(ValueError, match="shorter than the longest"):
        sequence_mask(torch.tensor([3, 5]), max_length=4)


def test_weight_norm_twice_is_refused():
    conv = weight_norm(nn.Conv1d(4, 6, 3, padding=1))
    with pytest.raises(ValueError, match="already"):
        weight_norm(conv)


def test_weight_norm_refuses_negative_dim():
    with pytest.raises(ValueError, match="dim=-1"):
        weight_norm(nn.Conv1d(1, 1, 3), dim=-1)


def test_remove_weight_norm_without_weight_norm():
    conv = remove_weight_norm(weight_norm(nn.Conv1d(4, 6, 3, padding=1)))
    with pytest.raises(ValueError, match="no weight norm"):
        remove_weight_norm(conv)


def test_wn_kernel_must_be_odd():
    with pytest.raises(ValueError, match="must be odd"):
        WN(8, 4, 1, 2)


def test_wn_without_gin_channels_refuses_a_style():
    frames, style = torch.randn(2, 8, 12), torch.randn(2, 4, 1)
    with pytest.raises(ValueError, match="gin_channels=0"):
        WN(8, 5, 1, 2)(frames, sequence_mask(torch.tensor([12, 9])), g=style)


# ---------------------------------------------------------------------------------- 05b_relative_attention
def test_attention_heads_must_divide_channels():
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadAttention(8, 8, n_heads=3)


def test_relative_attention_needs_self_attention():
    with pytest.raises(ValueError, match="self-attention"):
        MultiHeadAttention(8, 8, 2, window_size=2)(torch.randn(1, 8, 5), torch.randn(1, 8, 3))


# ----------------------------------------------------------------------------- 05c_anti_aliased_activation
def test_kaiser_sinc_cutoff_above_nyquist():
    with pytest.raises(ValueError, match="Nyquist"):
        kaiser_sinc_filter1d(0.7, 0.3, 12)


def test_amp_block_only_snakebeta():
    with pytest.raises(ValueError, match="not supported"):
        AMPBlock1(4, activation="snake")
