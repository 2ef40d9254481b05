"""Error messages of notebook 09 (generator): bad sizes and inputs to the upsampling stages, `sn` and `dec` say
what to do.

Moved out of the notebook, which keeps the two that teach (kernel - rate must be even; the first rate must be 4)."""
from __future__ import annotations

import re

import pytest
import torch

from hierspeech_nb.config import tiny_config
from hierspeech_nb.generator import HierarchicalAdaptiveGenerator, SourceNetwork, upsampling_stages

CONFIG = tiny_config("synthesizer").model


def test_channels_must_halve_once_per_stage():
    with pytest.raises(ValueError, match="halved"):
        upsampling_stages(48, [2] * 5, [4] * 5, [3], [[1]])


@pytest.fixture(scope="module")
def source_network() -> SourceNetwork:
    return SourceNetwork.from_config(CONFIG)


def test_source_network_wants_a_style_with_a_time_axis(source_network):
    z, g = torch.randn(2, CONFIG.inter_channels, 10), torch.randn(2, CONFIG.gin_channels, 1)
    with pytest.raises(ValueError, match=re.escape("style.unsqueeze(-1)")):
        source_network(z, g[:, :, 0])


def test_source_network_names_the_latent_width(source_network):
    z, g = torch.randn(2, CONFIG.inter_channels, 10), torch.randn(2, CONFIG.gin_channels, 1)
    with pytest.raises(ValueError, match=re.escape("[B, 192, T]")):
        source_network(z[:, :80], g)


def test_generator_wants_the_source_at_200_hz(source_network):
    dec = HierarchicalAdaptiveGenerator.from_config(CONFIG)
    z, g = torch.randn(2, CONFIG.inter_channels, 6), torch.randn(2, CONFIG.gin_channels, 1)
    with torch.no_grad():
        source_features, _ = source_network(z, g)
        with pytest.raises(ValueError, match="200 Hz"):
            dec(z, source_features[..., ::4], g)
