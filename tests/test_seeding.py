"""Builders of random models (tests, demos, the offline pipeline) are seeded by their own `seed` and leave the
caller's global random state alone: building one must not reset a notebook's or a training run's seed."""
from __future__ import annotations

import torch

import hierspeech_nb.data
from hierspeech_nb.inference import HierSpeechPipeline
from hierspeech_nb.semantic import tiny_mms


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_tiny_mms_keeps_the_global_rng_and_is_reproducible():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = tiny_mms(seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    assert same_weights(first, tiny_mms(seed=7))
    assert not same_weights(first, tiny_mms(seed=8))
    assert (first.hidden_size, len(first.layers)) == (1024, 1)


def test_tiny_mms_is_the_one_builder():
    assert not hasattr(hierspeech_nb.data, "tiny_mms")        # one builder, in semantic (notebook 03)
    assert not hasattr(hierspeech_nb.inference, "tiny_random_mms")


def test_random_pipeline_keeps_the_global_rng_and_is_reproducible():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = HierSpeechPipeline.random(seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    second = HierSpeechPipeline.random(seed=1)
    for name in ("synthesizer", "ttv", "denoiser", "mms"):
        assert same_weights(getattr(first, name), getattr(second, name)), name
    assert same_weights(first.mms, tiny_mms(seed=1))
