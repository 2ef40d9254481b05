"""Device and precision plumbing that can be checked on a CPU (issue 20): bfloat16 stands in for the GPU's half
precision, a tensor that needs a detach stands in for one on another device."""
from __future__ import annotations

import numpy as np
import torch

from hierspeech_nb.activations import Activation1d, SnakeBeta
from hierspeech_nb.evaluation import as_clip
from hierspeech_nb.fast_polyphase import polyphase_activation_cl, polyphase_filters


def test_a_scratch_buffer_of_another_dtype_is_not_reused():
    "Item 2: an fp32 scratch left from an earlier call must not round a bf16 activation differently."
    torch.manual_seed(0)
    plain = Activation1d(SnakeBeta(4, alpha_logscale=True))
    filters = {k: v.bfloat16() for k, v in polyphase_filters(plain.upsample.filter,
                                                              plain.downsample.lowpass.filter).items()}
    activation = SnakeBeta(4, alpha_logscale=True).bfloat16()
    x = torch.randn(2, 4, 1, 64).to(memory_format=torch.channels_last).bfloat16()
    stale = torch.empty(2, 4, 1, 65).to(memory_format=torch.channels_last)          # float32
    with torch.inference_mode():
        fresh = polyphase_activation_cl(x.clone(), activation, filters)
        reused = polyphase_activation_cl(x.clone(), activation, filters, stale)
    assert reused.dtype == torch.bfloat16 and torch.equal(reused, fresh)


def test_as_clip_takes_tensors_that_numpy_cannot_read_directly():
    "Item 6 (CPU half): a tensor that requires grad is detached and moved to the CPU before .numpy()."
    wave = (0.3 * torch.sin(torch.arange(16_000) / 10.0)).requires_grad_()
    clip = as_clip(wave)
    assert isinstance(clip, np.ndarray) and clip.dtype == np.float64 and clip.shape == (16_000,)


def test_tf32_is_off_for_the_golden_tests():
    "Item 9: conftest turns TF32 off, so golden tolerances mean float32 on a GPU too."
    assert torch.backends.cuda.matmul.allow_tf32 is False and torch.backends.cudnn.allow_tf32 is False


def test_mms_encode_casts_the_audio_to_the_model_dtype():
    "Item 3 (MMS half): float32 audio into a bfloat16 extractor, through encode as through forward."
    from hierspeech_nb.semantic import prepare_mms_input, tiny_mms
    mms = tiny_mms(seed=0).to(torch.bfloat16)
    wav = 0.1 * torch.randn(1, 16_000)
    with torch.inference_mode():
        encoded = mms.encode(prepare_mms_input(wav))
        forward = mms(wav)
    assert encoded.dtype == torch.bfloat16 and torch.equal(encoded, forward)


# --- half precision (appendix A5) -------------------------------------------------------------------------------
import copy

import pytest

from conftest import REPO

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run scripts/device_check.py)")
SOURCE = REPO / "data_samples" / "lvx_ss01_0880.wav"
PROMPT = REPO / "data_samples" / "allison_vm-msgforwarded.wav"


def test_pipeline_in_bf16_gives_float32_audio_of_the_same_length():
    "Items 3 and 4, and dtype= on the pipeline: VC at 48 kHz (SpeechSR), TTS, a denoised prompt, all in bfloat16."
    from hierspeech_nb.inference import HierSpeechPipeline
    full, half = HierSpeechPipeline.random(optimize=False), HierSpeechPipeline.random(optimize=False, dtype="bf16")
    assert half.synthesizer.enc_p_l.pre_filter.weight.dtype == torch.float32          # an island
    assert {p.dtype for p in half.synthesizer.dec.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in half.speechsr[48_000].dec.conv_pre.parameters()} == {torch.bfloat16}
    from hierspeech_nb.audio import load_audio
    source = load_audio(SOURCE)[:, :16_000]                                              # 1 s: bf16 is slow on a CPU
    calls = [lambda p: p.vc(source, PROMPT, seed=0, output_rate=48_000, scale_norm="none", progress=False),
             lambda p: p.tts("Hi.", PROMPT, seed=0, scale_norm="none", progress=False),
             lambda p: p.vc(source, PROMPT, seed=0, denoise_ratio=0.5, scale_norm="none", progress=False)]
    for call in calls:
        (reference, rate), (audio, half_rate) = call(full), call(half)
        assert audio.dtype == torch.float32 and audio.shape == reference.shape and rate == half_rate
        error = (audio - reference).pow(2).sum() / reference.pow(2).sum()
        assert torch.isfinite(audio).all() and 10 * torch.log10(1 / error) > 25      # within a few tenths of %


def test_load_checkpoint_dtype_keeps_the_islands_exact(tmp_path):
    from hierspeech_nb.models import create_model, load_checkpoint
    torch.manual_seed(0)
    ttv = create_model("ttv", "tiny")
    torch.save(ttv.state_dict(), tmp_path / "ttv.pth")
    half = load_checkpoint("ttv", tmp_path / "ttv.pth", config="tiny", dtype="fp16")
    for name, value in half.state_dict().items():
        expected = ttv.state_dict()[name]
        if name.startswith(("dp.", "pp.")):
            assert value.dtype == expected.dtype and torch.equal(value, expected), name
        elif value.is_floating_point():
            assert value.dtype == torch.float16, name
    with pytest.raises(ValueError, match="is not one of"):
        load_checkpoint("ttv", tmp_path / "ttv.pth", config="tiny", dtype="int8")


def test_mel_loss_is_float32_under_autocast():
    "Item 7: the mel loss under bf16 autocast equals the float32 one exactly."
    from hierspeech_nb.losses import mel_loss
    generated, target = 0.1 * torch.randn(2, 1, 8000), 0.1 * torch.randn(2, 1, 8000)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = mel_loss(generated, target)
    assert mixed.dtype == torch.float32 and torch.equal(mixed, mel_loss(generated, target))


def test_bf16_training_keeps_the_islands_in_float32(tmp_path):
    "Item 7: with precision bf16 the trainer keeps the F0 input convolution in float32 under autocast."
    from hierspeech_nb.audio import HOP_LENGTH
    from hierspeech_nb.config import tiny_config
    from hierspeech_nb.discriminators import DiscriminatorConfig
    from hierspeech_nb.synthesizer_training import SynthesizerTask
    from hierspeech_nb.training import Trainer, TrainerOptions
    config = tiny_config("synthesizer")
    config.train.segment_size = 8 * HOP_LENGTH
    config.train.extra["discriminator"] = DiscriminatorConfig.tiny().to_dict()
    encoder = {}
    for precision in ("bf16", "fp32"):
        options = TrainerOptions(out_dir=tmp_path, precision=precision, tensorboard=False, progress=False, seed=0)
        encoder[precision] = Trainer(SynthesizerTask(config), options).generator.enc_p_l
    log_f0, features = torch.rand(1, 1, 64) * 5, torch.randn(1, 1024, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        kept, lowered = encoder["bf16"].pre_filter(log_f0), encoder["fp32"].pre_filter(log_f0)
        rest = encoder["bf16"].pre_source(features)
    assert (kept.dtype, lowered.dtype, rest.dtype) == (torch.float32, torch.bfloat16, torch.bfloat16)
    assert torch.equal(kept, encoder["fp32"].pre_filter(log_f0))        # exactly the float32 result


def test_fp16_with_a_grad_scaler_trains(tmp_path):
    "Item 7: the trainer's fp16 path (autocast float16 + GradScaler) runs steps with finite losses."
    from hierspeech_nb.training import Trainer, TrainerOptions
    from test_training import ToyTask, toy_loader
    options = TrainerOptions(out_dir=tmp_path, max_steps=4, log_every=1, save_every=100, precision="fp32",
                             tensorboard=False, progress=False, seed=0)
    trainer = Trainer(ToyTask(), options)
    # users get fp16 on CUDA only (slow on a CPU); the test switches it on here to run the scaler's code path
    trainer.autocast_dtype, trainer.scaler = torch.float16, torch.amp.GradScaler("cpu", init_scale=2.0 ** 10)
    before = copy.deepcopy(trainer.generator.state_dict())
    seen = []
    trainer.generator[0].register_forward_hook(lambda module, inputs, output: seen.append(output.dtype) and None)
    history = trainer.fit(toy_loader())
    assert set(seen) == {torch.float16} and trainer.scaler.is_enabled()
    assert 0 < trainer.scaler.get_scale() <= 2.0 ** 10 and len(history) == 4
    assert all(torch.isfinite(torch.tensor(value)) for record in history for value in record.values())
    assert all(not torch.equal(value, before[name]) for name, value in trainer.generator.state_dict().items())


def test_get_f0_returns_on_the_cpu():
    "Item 6: F0 stays on the CPU in float64 (YAAPT runs in numpy), whatever the input was."
    from hierspeech_nb.pitch import get_f0
    wave = (0.3 * torch.sin(2 * torch.pi * 150 * torch.arange(8000) / 16_000)).requires_grad_()
    f0 = get_f0(wave, progress=False)
    assert f0.device.type == "cpu" and f0.dtype == torch.float64


@needs_cuda
def test_same_seed_same_audio_on_cpu_and_cuda():
    "Item 5: inference draws its noise on a CPU generator, so a seed gives the same audio on both devices."
    from hierspeech_nb.inference import HierSpeechPipeline
    cpu = HierSpeechPipeline.random(optimize=False).vc(SOURCE, PROMPT, seed=3, scale_norm="none", progress=False)[0]
    cuda = HierSpeechPipeline.random(optimize=False, device="cuda").vc(SOURCE, PROMPT, seed=3, scale_norm="none",
                                                                        progress=False)[0]
    torch.testing.assert_close(cuda, cpu, rtol=0, atol=1e-3)


@needs_cuda
def test_pipeline_on_cuda_in_bf16_and_evaluation_reads_cuda_tensors():
    "Items 3, 4, 6 on a GPU: a bf16 pipeline with a denoised prompt; F0 metrics of CUDA tensors."
    from hierspeech_nb.audio import load_audio
    from hierspeech_nb.evaluation import f0_metrics
    from hierspeech_nb.inference import HierSpeechPipeline
    pipeline = HierSpeechPipeline.random(device="cuda", dtype="bf16")
    audio, _ = pipeline.vc(SOURCE, PROMPT, seed=0, denoise_ratio=0.5, output_rate=48_000, progress=False)
    assert audio.dtype == torch.float32 and torch.isfinite(audio).all()
    clip = load_audio(SOURCE).to("cuda")
    assert f0_metrics(clip, clip)
