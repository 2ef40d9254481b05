"""Error messages of notebook 16 (`hierspeech_nb.speechsr`): bad input is refused with a message that names the
input, the problem and the fix. The notebook keeps one of these checks (a clip at the wrong rate), where the
error's design is part of the lesson."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from hierspeech_nb.config import load_config
from hierspeech_nb.models import create_model
from hierspeech_nb.speechsr import build_speechsr, interpolate_features, released_speechsr, super_resolve


@pytest.fixture(scope="module")
def tiny48() -> nn.Module:
    torch.manual_seed(0)
    return create_model("speechsr48k", "tiny")


def test_interpolation_mode_is_checked():
    with pytest.raises(ValueError, match="not supported"):
        interpolate_features(torch.zeros(1, 1, 401), 601, mode="cubic")


def test_build_speechsr_checks_the_config():
    bad = load_config("speechsr48k", "tiny")
    bad.model.resblock = "1"
    with pytest.raises(ValueError, match="only the AMP block '0'"):
        build_speechsr(bad)
    bad.model.resblock, bad.model.upsample_rates = "0", [3, 2]
    with pytest.raises(ValueError, match="exactly one"):
        build_speechsr(bad)


@pytest.mark.parametrize("rate, message", [(16_000, "no released SpeechSR"),
                                           (22_050, r"choose one of \[24000, 48000\]")])
def test_released_speechsr_rates(rate, message):
    with pytest.raises(ValueError, match=message):
        released_speechsr(rate)


@pytest.mark.parametrize("make_input, options, message", [
    (lambda wav: torch.randn(2, 100), {}, "one mono clip"),
    (lambda wav: (wav * 32768).short(), {}, "divide int16"),
    (lambda wav: torch.zeros(0), {}, "is empty"),
    (lambda wav: torch.full((10,), float("nan")), {}, "NaN"),
    (lambda wav: wav, {"chunk_seconds": 0}, "must be positive"),
], ids=["batch", "int16", "empty", "nan", "chunk_seconds"])
def test_super_resolve_checks_its_input(tiny48, make_input, options, message):
    wav = torch.randn(4001) * 0.1
    with pytest.raises(ValueError, match=message):
        super_resolve(make_input(wav), tiny48, progress=False, **options)


def test_super_resolve_needs_a_speechsr():
    with pytest.raises(ValueError, match="must be a SpeechSR"):
        super_resolve(torch.randn(4001) * 0.1, nn.Identity())
