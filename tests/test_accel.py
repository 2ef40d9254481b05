"""The accelerator (`hierspeech_nb.accel`, appendix A1-A3) against the lesson modules, end to end.

- `optimize_for_inference` keeps the pipelines' outputs: voice conversion and text-to-speech through SpeechSR 48 kHz
  and the prompt denoiser, on configs bigger than the tiny ones (channel counts where the fused kernel takes its
  blocked 16-lane path), within 1e-5 of the plain models with the same weights and seed.
- a model built, moved or optimized inside `torch.inference_mode()` runs, inside and outside it (the old cache
  keyed on tensor versions crashed there).
- the lesson modules stay free of engine code (numba, PyTorch-internal ops, channels-last layouts, mode switches).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import torch

from hierspeech_nb.accel import (FastActivation1d, FastAMPBlock1, FastConvModule, FastHierarchicalAdaptiveGenerator,
                                 FastSpeechSRGenerator, optimize_for_inference)
from hierspeech_nb.config import tiny_config
from hierspeech_nb.inference import HierSpeechPipeline
from hierspeech_nb.models import create_model
from hierspeech_nb.semantic import tiny_mms

from conftest import DATA_SAMPLES, REPO

TOLERANCE = dict(rtol=0.0, atol=1e-5)
SOURCE, PROMPT = DATA_SAMPLES / "slt_arctic_a0009.wav", DATA_SAMPLES / "awb_arctic_a0007.wav"


def _medium_config(name: str):
    "Between tiny and released: widths that are multiples of 16, so the fused kernel's blocked path runs too."
    config = tiny_config(name)
    if name == "synthesizer":
        config.model.hidden_channels, config.model.filter_channels = 64, 128
        config.model.upsample_initial_channel = 256          # stages of 128, 64, 32, 16, 8 channels; sn 64, 32
    elif name == "ttv":
        config.model.inter_channels, config.model.hidden_channels = 48, 64
    elif name in ("speechsr24k", "speechsr48k"):
        config.model.upsample_initial_channel = 32           # the released width
    elif name == "denoiser":
        config.dense_channel = 32
    return config


@pytest.fixture(scope="module")
def pipelines() -> tuple[HierSpeechPipeline, HierSpeechPipeline]:
    "(plain, optimized): the same medium-size random weights, the plain lesson modules and optimize_for_inference."
    torch.manual_seed(0)
    models = {name: create_model(name, _medium_config(name)).eval()
              for name in ("synthesizer", "ttv", "speechsr48k", "denoiser")}
    mms = tiny_mms(seed=0)

    def pipeline(models):
        return HierSpeechPipeline(synthesizer=models["synthesizer"], mms=mms, ttv=models["ttv"],
                                  denoiser=models["denoiser"], speechsr={48_000: models["speechsr48k"]})

    optimized = {name: optimize_for_inference(model, inplace=False) for name, model in models.items()}
    return pipeline(models), pipeline(optimized)


def test_optimized_models_have_the_drop_ins(pipelines):
    plain, optimized = pipelines
    assert isinstance(optimized.synthesizer.dec, FastHierarchicalAdaptiveGenerator)
    assert isinstance(optimized.speechsr[48_000].dec, FastSpeechSRGenerator)
    assert any(isinstance(m, FastConvModule) for m in optimized.denoiser.modules())
    assert not any(type(m).__name__.startswith("Fast") for m in plain.synthesizer.modules())   # inplace=False: a copy
    assert any(key.endswith("weight_g") for key in plain.synthesizer.state_dict())            # still weight-normed


@pytest.mark.parametrize("task", ["vc", "tts"])
def test_pipeline_outputs_equal(pipelines, task):
    "The whole path, 16 kHz synthesis -> SpeechSR 48 kHz, with the denoised prompt mixed in: optimized = plain."
    plain, optimized = pipelines
    options = dict(output_rate=48_000, denoise_ratio=0.5, seed=0, progress=False)
    if task == "vc":
        outputs = [p.vc(SOURCE, PROMPT, **options) for p in (plain, optimized)]
    else:
        outputs = [p.tts("Mr. Smith reads it twice.", PROMPT, **options) for p in (plain, optimized)]
    (plain_audio, plain_rate), (fast_audio, fast_rate) = outputs
    assert plain_rate == fast_rate == 48_000
    assert plain_audio.shape == fast_audio.shape and plain_audio.shape[-1] > 48_000 // 2
    assert plain_audio.abs().max() > 0.1
    torch.testing.assert_close(fast_audio, plain_audio, **TOLERANCE)


def test_pipeline_optimizes_by_default():
    pipeline = HierSpeechPipeline.random()
    assert isinstance(pipeline.synthesizer.dec, FastHierarchicalAdaptiveGenerator)
    assert isinstance(pipeline.speechsr[24_000].dec, FastSpeechSRGenerator)
    plain = HierSpeechPipeline.random(optimize=False)
    assert type(plain.synthesizer.dec).__name__ == "HierarchicalAdaptiveGenerator"


@pytest.mark.parametrize("where", ["built", "moved", "optimized"])
def test_inference_mode_models_run(where):
    "A model built, moved or optimized inside inference_mode runs inside and outside it, and equals the plain one."
    torch.manual_seed(1)
    reference = create_model("speechsr48k", "tiny").eval()
    wav = torch.randn(1, 1, 1601) * 0.1
    with torch.inference_mode():
        expected = reference(wav)
    state = reference.state_dict()
    with torch.inference_mode():
        if where == "built":
            model = create_model("speechsr48k", "tiny")
            model.load_state_dict(state)
            model = optimize_for_inference(model)
        elif where == "moved":
            model = optimize_for_inference(copy.deepcopy(reference)).to(torch.float64).to(torch.float32)
        else:
            model = optimize_for_inference(copy.deepcopy(reference))
        inside = model(wav)
    with torch.no_grad():
        outside = model(wav)
    torch.testing.assert_close(inside, expected, **TOLERANCE)
    assert torch.equal(outside, inside)


def test_drop_ins_step_aside_for_autograd():
    "With autograd on an optimized block computes the lesson chain, bit for bit, and gradients flow."
    torch.manual_seed(2)
    block = optimize_for_inference(create_model("speechsr24k", "tiny")).dec.resblocks[0]
    assert isinstance(block, FastAMPBlock1) and isinstance(block.activations[0], FastActivation1d)
    x = torch.randn(1, 8, 64, requires_grad=True)
    out = block(x)
    assert torch.equal(out, type(block).__mro__[1].forward(block, x))
    out.sum().backward()
    assert x.grad.abs().sum() > 0


ENGINE = re.compile(r"numba|torch\.ops\.mkldnn|channels_last|set_fused|set_polyphase")
ACCELERATOR = {"accel.py", "fast_polyphase.py", "fast_kernel.py", "_modidx.py",
               "mas.py"}   # MAS: naive -> vectorised -> compiled is lesson 14's subject


def test_lesson_modules_are_plain():
    "No numba, private torch ops, channels-last branches or switches outside the accelerator's modules."
    offenders = {path.name: sorted(set(ENGINE.findall(path.read_text())))
                 for path in sorted((REPO / "hierspeech_nb").glob("*.py")) if path.name not in ACCELERATOR}
    assert {name: found for name, found in offenders.items() if found} == {}
    assert ENGINE.search((REPO / "hierspeech_nb" / "accel.py").read_text())   # the check can see engine code


def test_optimize_for_inference_refuses_non_modules():
    with pytest.raises(ValueError, match="expected a torch.nn.Module"):
        optimize_for_inference(Path("model.pth"))
