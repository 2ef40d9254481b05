"""Error messages of notebook 07 (BiT-Flow): bad sizes and inputs to the DiT attention, the coupling layer and
`BiTFlow` say what to do.

Moved out of the notebook, which keeps the one that teaches (the flow has no unconditional path: g is required)."""
from __future__ import annotations

import pytest
import torch

from hierspeech_nb.flows import STYLE_CHANNELS, BiTFlow, DiTAttention, TransformerCouplingLayer


def test_attention_width_must_split_into_heads():
    with pytest.raises(ValueError, match="not divisible"):
        DiTAttention(15, num_heads=2)


def test_coupling_needs_an_even_number_of_channels():
    with pytest.raises(ValueError, match="must be even"):
        TransformerCouplingLayer(7, 16)


@pytest.fixture(scope="module")
def flow_inputs():
    x_mask = (torch.arange(12) < torch.tensor([12, 7])[:, None]).float()[:, None]   # [2, 1, 12]
    return BiTFlow(channels=8, hidden_channels=16).eval(), torch.randn(2, 8, 12) * x_mask, x_mask


def test_flow_rejects_a_style_of_the_wrong_size(flow_inputs):
    flow, x, x_mask = flow_inputs
    with pytest.raises(ValueError, match="g must be"):
        flow(x, x_mask, torch.randn(2, 128, 1))


def test_flow_rejects_a_latent_of_the_wrong_width(flow_inputs):
    flow, x, x_mask = flow_inputs
    with pytest.raises(ValueError, match="x must be"):
        flow(x[:, :6], x_mask, torch.randn(2, STYLE_CHANNELS, 1))
