"""Error messages of notebook 03 (semantic features): missing weights, bad configs and bad audio say how to fix them.

Moved out of the notebook, which keeps one: a model that is not on disk says, on one line, how to get it."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hierspeech_nb.semantic import (MMSFeatureExtractor, check_wav2vec2_weights, load_mms, load_wav2vec2,
                                    prepare_mms_input, wav2vec2_from_state_dict)


@pytest.fixture(scope="module")
def tiny():
    return load_wav2vec2("tiny")


def test_missing_weights():
    with pytest.raises(FileNotFoundError, match=r"\(no such folder\)"):
        check_wav2vec2_weights(Path("no-such-folder") / "mms")
    with pytest.raises(FileNotFoundError, match="--local-dir"):
        load_mms(Path("no-such-folder") / "mms-300m")


def test_wav2vec2_from_state_dict_errors(tiny):
    with pytest.raises(ValueError, match="must be a Wav2Vec2Config"):
        wav2vec2_from_state_dict(42, tiny.state_dict())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        wav2vec2_from_state_dict("missing/config.json", tiny.state_dict())


@pytest.mark.parametrize("wav, message", [
    (torch.zeros(16_000), "add a batch axis"),
    (torch.zeros(1, 2, 16_000), "mix channels down"),
    (torch.zeros(1, 16_000, dtype=torch.int16), r"wav.float\(\) / 32768"),
    (torch.zeros(1, 0), "is empty"),
    (torch.zeros(1, 399), "fewer than one MMS frame"),
    ([0.0] * 1000, "must be a torch.Tensor"),
])
def test_prepare_mms_input_errors(wav, message):
    with pytest.raises(ValueError, match=message):
        prepare_mms_input(wav)


def test_extractor_depth_must_fit_the_model(tiny):
    with pytest.raises(ValueError, match=r"outside 0\.\.8"):
        MMSFeatureExtractor(tiny.wav2vec2, 9)
