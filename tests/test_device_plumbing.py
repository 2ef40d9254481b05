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
