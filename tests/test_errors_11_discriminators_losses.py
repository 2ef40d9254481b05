"""Bad-input messages of notebook 11 (discriminators): each error names the input, the problem and the fix.
Moved out of the notebook, whose lesson is what the critics look at."""
from __future__ import annotations

import re

import pytest
import torch

from hierspeech_nb.config import TrainConfig
from hierspeech_nb.discriminators import DiscriminatorConfig, fold_periods


def test_fold_periods_needs_a_channel_axis():
    with pytest.raises(ValueError, match=re.escape("[B, 1, S]")):
        fold_periods(torch.arange(12.)[None], 3)


def test_unknown_discriminator_keys():
    with pytest.raises(ValueError, match="unknown keys"):
        DiscriminatorConfig.from_train(TrainConfig(extra={"discriminator": {"width": 3}}))
