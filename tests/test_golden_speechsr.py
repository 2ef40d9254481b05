"""Golden tests for SpeechSR (notebook 16, `hierspeech_nb.speechsr`) with the REAL released weights against the
official `speechsr24k/speechsr.py` / `speechsr48k/speechsr.py` outputs in
../shared/reference/golden/speechsr{24k,48k}_real.pt (checkpoints in ../shared/reference/checkpoints/, MIT).

One test per fixture key, for both rates. The weights are loaded with our `load_checkpoint` (strict), as a user
would load them.

Tolerance: `torch.testing.assert_close(rtol=0, atol=1e-4)` on every tensor, the golden README's recommendation
for an implementation that calls `F.interpolate(x, size=int(N*r), mode='linear')` in float32 as the official
code does (README section "Real SpeechSR checkpoints"). The same tolerance holds for our chunked path
(`super_resolve` with chunks), whose window positions reproduce PyTorch's float32 interpolation arithmetic.

Every test runs twice: on the plain model (the lesson modules) and on the model `optimize_for_inference` gives
(appendix A3: weight norm folded, channels-last drop-ins). The intermediates are read with forward hooks on the
plain model, whose modules are called one by one."""
from __future__ import annotations

import pytest
import torch

from hierspeech_nb.audio import SAMPLE_RATE
from hierspeech_nb.accel import optimize_for_inference
from hierspeech_nb.config import load_config
from hierspeech_nb.models import load_checkpoint
from hierspeech_nb.speechsr import build_speechsr, interpolate_features, sr_output_length, super_resolve

TOLERANCE = dict(rtol=0.0, atol=1e-4)   # golden README, "Real SpeechSR checkpoints"
NAMES = ["speechsr24k", "speechsr48k"]
CHUNK_SECONDS = 0.3                      # several chunks over the 2 s fixture clip (less on a shorter clip)
# every key of the fixture files, each checked by a test below (test_every_fixture_key_is_checked)
CHECKED_KEYS = {"input_16k", "output", "input_was_resampled", "source_clip", "interp_factor", "interp_mode",
                "checkpoint", "short_input_16k", "short_source_clip", "short_conv_pre_out", "short_interp_out",
                "short_resblock_mean", "short_activation_post_out", "short_conv_post_out", "short_output",
                "short_output_if_nearest_interp"}


@pytest.fixture(scope="module", params=[(name, variant) for name in NAMES for variant in ("plain", "optimized")],
                ids=lambda param: "-".join(param))
def case(request, golden_dir, shared_reference) -> dict:
    "Fixture tensors, the real-weights model loaded strictly, and what the model computes on the fixture inputs."
    name, variant = request.param
    fixture = torch.load(golden_dir / f"{name}_real.pt", weights_only=True)
    checkpoint = shared_reference / "checkpoints" / fixture["checkpoint"]
    plain = load_checkpoint(name, checkpoint)
    captured = {}
    dec = plain.dec
    hooks = [dec.conv_pre.register_forward_hook(lambda m, i, o: captured.__setitem__("short_conv_pre_out", o)),
             dec.resblocks[0].register_forward_pre_hook(lambda m, i: captured.__setitem__("short_interp_out", i[0])),
             dec.activation_post.register_forward_hook(
                 lambda m, i, o: captured.update(short_resblock_mean=i[0], short_activation_post_out=o)),
             dec.conv_post.register_forward_hook(lambda m, i, o: captured.__setitem__("short_conv_post_out", o))]
    with torch.inference_mode():
        captured["short_output_module_by_module"] = plain(fixture["short_input_16k"])
    for hook in hooks:
        hook.remove()
    model = load_checkpoint(name, checkpoint, optimize=True) if variant == "optimized" else plain
    assert (type(model.dec).__name__ == "FastSpeechSRGenerator") == (variant == "optimized")
    with torch.inference_mode():
        captured["short_output"] = model(fixture["short_input_16k"])
        captured["output"] = model(fixture["input_16k"])
    return dict(name=name, variant=variant, fixture=fixture, model=model, plain=plain, checkpoint=checkpoint,
                ours=captured)


def test_every_fixture_key_is_checked(case):
    assert set(case["fixture"]) == CHECKED_KEYS, "the fixture gained or lost keys: add a test for each new one"


def test_output(case):
    torch.testing.assert_close(case["ours"]["output"], case["fixture"]["output"], **TOLERANCE)


def test_output_chunked(case):
    "The chunked path of super_resolve gives the official output too (`output`, via several chunks)."
    fixture = case["fixture"]
    chunk_seconds = min(CHUNK_SECONDS, fixture["output"].shape[-1] / case["model"].output_rate / 3)
    chunked = super_resolve(fixture["input_16k"], case["model"], chunk_seconds=chunk_seconds, progress=False)
    assert fixture["output"].shape[-1] > 2 * chunk_seconds * case["model"].output_rate, "not chunked"
    torch.testing.assert_close(chunked[None], fixture["output"], **TOLERANCE)


def test_input_16k(case):
    "`input_16k` is real 16 kHz speech; the output has int(N * factor) samples, as official."
    fixture = case["fixture"]
    x = fixture["input_16k"]
    assert x.dim() == 3 and x.shape[:2] == (1, 1) and x.abs().max() > 0.01
    assert fixture["output"].shape[-1] == sr_output_length(x.shape[-1], case["model"].output_rate)
    assert fixture["output"].shape[-1] == int(x.shape[-1] * fixture["interp_factor"])


def test_input_was_resampled(case):
    assert isinstance(case["fixture"]["input_was_resampled"], bool)   # metadata: `input_16k` is 16 kHz either way


def test_source_clip(case):
    "The full and short inputs come from the same recording; the short one is a slice of the full one."
    fixture = case["fixture"]
    clip, short_clip = fixture["source_clip"], fixture["short_source_clip"]
    assert clip.split(" samples ")[0] == short_clip.split(" samples ")[0]
    start, stop = (int(v) for v in short_clip.split("[")[1].rstrip("]").split(":"))
    assert stop - start == fixture["short_input_16k"].shape[-1]
    if stop <= fixture["input_16k"].shape[-1]:
        torch.testing.assert_close(fixture["input_16k"][..., start:stop], fixture["short_input_16k"], rtol=0, atol=0)


def test_interp_factor(case):
    assert case["model"].output_rate / SAMPLE_RATE == case["fixture"]["interp_factor"]


def test_interp_mode(case):
    assert case["model"].dec.interpolation_mode == case["fixture"]["interp_mode"]   # our default = official


def test_checkpoint(case):
    "The fixture names the released file we loaded; it loads strictly into the model of that name."
    assert case["checkpoint"].is_file()
    assert case["fixture"]["checkpoint"].startswith(case["name"] + "/")
    assert not case["model"].training


def test_short_input_16k(case):
    short = case["fixture"]["short_input_16k"]
    # int(N * factor) rounds down for odd N at 24 kHz (the README's 401 -> 601)
    assert case["fixture"]["short_output"].shape[-1] == int(short.shape[-1] * case["fixture"]["interp_factor"])
    assert case["ours"]["short_output"].shape[-1] == sr_output_length(short.shape[-1], case["model"].output_rate)


@pytest.mark.parametrize("key", ["short_conv_pre_out", "short_interp_out", "short_resblock_mean",
                                 "short_activation_post_out", "short_conv_post_out", "short_output"])
def test_short_intermediate(case, key):
    torch.testing.assert_close(case["ours"][key], case["fixture"][key], **TOLERANCE)


def test_short_output_module_by_module(case):
    "The module-by-module chain (where the intermediates above were captured) gives the official output too."
    torch.testing.assert_close(case["ours"]["short_output_module_by_module"], case["fixture"]["short_output"],
                               **TOLERANCE)


def test_short_interp_out_from_interpolate_features(case):
    "Our interpolation helper alone, on the official conv_pre output."
    fixture = case["fixture"]
    size = fixture["short_interp_out"].shape[-1]
    ours = interpolate_features(fixture["short_conv_pre_out"], size, fixture["interp_mode"])
    torch.testing.assert_close(ours, fixture["short_interp_out"], **TOLERANCE)


def test_short_output_if_nearest_interp(case):
    "Same weights with interpolation_mode='nearest' (the paper's upsampler) give the official nearest output."
    fixture = case["fixture"]
    nearest = build_speechsr(load_config(case["name"]), interpolation_mode="nearest")
    nearest.load_state_dict(case["plain"].state_dict(), strict=True)
    if case["variant"] == "optimized":
        nearest = optimize_for_inference(nearest)
    with torch.inference_mode():
        ours = nearest(fixture["short_input_16k"])
    torch.testing.assert_close(ours, fixture["short_output_if_nearest_interp"], **TOLERANCE)
    # ... and the fixture tells the two modes apart, so the test above could fail
    assert (fixture["short_output_if_nearest_interp"] - fixture["short_output"]).abs().max() > 10 * TOLERANCE["atol"]
