"""Error messages of notebook 14 (MAS) for bad input: each names the problem and the fix."""
from __future__ import annotations

import pytest
import torch

from hierspeech_nb.mas import maximum_path, maximum_path_naive, maximum_path_torch


def test_scores_must_be_frames_first():
    with pytest.raises(ValueError, match="frames first"):
        maximum_path_naive(torch.zeros(1, 2, 4), torch.ones(1, 4, 2))
    with pytest.raises(ValueError, match="frames first"):
        maximum_path_torch(torch.zeros(2, 3, 7), torch.ones(2, 7, 3))


@pytest.fixture
def scores_and_mask():
    return torch.randn(3, 10, 4, generator=torch.Generator().manual_seed(0)), torch.ones(3, 10, 4)


def test_an_item_without_frames_is_refused(scores_and_mask):
    scores, mask = scores_and_mask
    bad_mask = mask.clone()
    bad_mask[0] = 0                                   # an item with no frames
    with pytest.raises(ValueError, match="at least one frame"):
        maximum_path(scores, bad_mask)


def test_a_mask_that_is_not_a_rectangle_is_refused(scores_and_mask):
    scores, mask = scores_and_mask
    bad_mask = mask.clone()
    bad_mask[0, -1, -1] = 0.5
    with pytest.raises(ValueError, match="rectangular"):
        maximum_path(scores, bad_mask)


def test_an_unknown_implementation_is_refused(scores_and_mask):
    scores, mask = scores_and_mask
    with pytest.raises(ValueError, match="not one of"):
        maximum_path(scores, mask, implementation="cython")
