"""Error messages of notebook 06 (posterior encoders): bad input to `sample_gaussian`, `SourceFilterEncoder` and
`DualAudioEncoder` says what to do.

Moved out of the notebook, which keeps the one that teaches (exactly 4 F0 frames per feature frame)."""
from __future__ import annotations

import pytest
import torch

from hierspeech_nb.audio import HOP_LENGTH
from hierspeech_nb.encoders import DualAudioEncoder, SourceFilterEncoder, sample_gaussian


def _mask(lengths: list[int], frames: int) -> torch.Tensor:   # float [B, 1, T], 1 = valid frame
    return (torch.arange(frames) < torch.tensor(lengths)[:, None]).float()[:, None]


def test_sample_gaussian_rejects_noise_of_another_shape():
    mean, log_std = torch.randn(2, 4, 50), torch.randn(2, 4, 50)
    with pytest.raises(ValueError, match="must have the shape"):
        sample_gaussian(mean, log_std, noise=torch.randn(1, 4, 50))


def test_sample_gaussian_rejects_mismatched_halves():
    with pytest.raises(ValueError, match="differ"):
        sample_gaussian(torch.randn(2, 4, 50), torch.randn(1, 4, 50))


def test_source_filter_encoder_names_the_mms_features():
    encoder = SourceFilterEncoder(out_channels=8, hidden_channels=16, gin_channels=4, src_channels=32).eval()
    with pytest.raises(ValueError, match="x_src"):
        encoder(torch.randn(2, 16, 20), torch.rand(2, 1, 80), _mask([20, 13], 20))


def test_dual_audio_encoder_wants_one_hop_of_samples_per_frame():
    encoder = DualAudioEncoder(in_channels=641, out_channels=8, hidden_channels=16, gin_channels=4).eval()
    frames = 10
    with pytest.raises(ValueError, match=f"{HOP_LENGTH} samples per spectrogram frame"):
        encoder(torch.rand(1, 641, frames), torch.randn(1, 1, HOP_LENGTH * frames - 1), torch.ones(1, 1, frames))
