"""Golden tests for the synthesizer's encoders (notebook 06, `hierspeech_nb.encoders`): the source-filter semantic
encoders `enc_p_l` / `enc_p` (official `PosteriorSFEncoder`) and the dual-audio posterior encoder `enc_q` (official
`PosteriorAudioEncoder`), against ../shared/reference/golden/synth_modules.pt and synth_vc.pt.

Inputs (golden README, tables under `synth_modules.pt` and `synth_vc.pt`): `m = sequence_mask(lengths_b2)` [2,1,64]
with row 1 padded to 51 frames, `g = emb_g/out[..., None]` [B,256,1]; the official calls are
`enc_p_l(w2v_b2, f0_b2, m, g=g)` (and the same with `enc_p`'s weights) and
`enc_q(x_linear, x_audio, ones[1,1,64], g=g[:1])`, each returning (z, m, logs) of which m and logs are recorded.
`synth_vc.pt` adds the sample itself: `infer` records `enc_p_l`'s N(0,1) draw (`infer/noise`) and the z it made.

Tolerance: `torch.testing.assert_close(rtol=1e-5, atol=1e-5)` everywhere, as the README recommends for `synth_*`
(official float32 vs float64: <= 2.5e-6 on module outputs; 8 threads vs 1: <= 5.7e-6). We measured max |diff|
<= 1.1e-6 on the means and log-stds and 1.9e-6 on the sampled z (its values are larger: exp(logs) scales the noise).
The full-size check compares our modules' state-dict keys, shapes and dtypes with the released checkpoint's manifest.
"""
from __future__ import annotations


import pytest
import torch

from hierspeech_nb.blocks import sequence_mask
from hierspeech_nb.config import SynthesizerConfig, released_config
from hierspeech_nb.encoders import DualAudioEncoder, SourceFilterEncoder

from conftest import with_prefix as _with_prefix

TOLERANCE = dict(rtol=1e-5, atol=1e-5)   # golden README, section "Synthesizer": recommended for synth_*
SEMANTIC_PREFIXES = ("enc_p_l", "enc_p")
ALL_PREFIXES = (*SEMANTIC_PREFIXES, "enc_q")
# A forgotten mask after `pre_filter` must move the padded row far above the tolerance; 1e-3 is 100x above it.
MASK_EFFECT_FLOOR = 1e-3


def _build(prefix: str, config: SynthesizerConfig) -> torch.nn.Module:
    # as the official SynthesizerTrn: PosteriorSFEncoder(1024, inter, hidden, 5, 1, 16, gin_channels=gin) and
    # PosteriorAudioEncoder(filter_length // 2 + 1, inter, hidden, 5, 1, 16, gin_channels=gin)
    model = config.model
    if prefix == "enc_q":
        return DualAudioEncoder(config.data.filter_length // 2 + 1, model.inter_channels, model.hidden_channels,
                                gin_channels=model.gin_channels)
    return SourceFilterEncoder(model.inter_channels, model.hidden_channels, gin_channels=model.gin_channels)


@pytest.fixture(scope="module")
def golden_encoders(tiny_config, tiny_state_dict) -> dict:
    encoders = {}
    for prefix in ALL_PREFIXES:
        encoder = _build(prefix, tiny_config)
        encoder.load_state_dict(_with_prefix(tiny_state_dict, prefix + "."), strict=True)
        encoders[prefix] = encoder.eval()
    return encoders


@pytest.fixture(scope="module")
def semantic_inputs(synth_inputs, synth_modules) -> tuple:
    "(w2v, log-F0, mask, g) exactly as the README's table defines them."
    features = synth_inputs["w2v_b2"]
    mask = sequence_mask(synth_inputs["lengths_b2"], features.shape[-1])
    return features, synth_inputs["f0_b2"], mask, synth_modules["emb_g/out"][..., None]


def test_fixture_has_a_padded_row(semantic_inputs):
    _, _, mask, _ = semantic_inputs
    assert mask.sum(-1).min() < mask.shape[-1], "row 1 must be padded, or the encoders' masking is untested"


@pytest.mark.parametrize("prefix", SEMANTIC_PREFIXES)
def test_semantic_encoder_matches_official(golden_encoders, semantic_inputs, synth_modules, prefix):
    features, log_f0, mask, style = semantic_inputs
    with torch.no_grad():
        z, mean, log_std = golden_encoders[prefix](features, log_f0, mask, g=style)
    torch.testing.assert_close(mean, synth_modules[f"{prefix}/m"], **TOLERANCE)
    torch.testing.assert_close(log_std, synth_modules[f"{prefix}/logs"], **TOLERANCE)
    assert torch.equal(z * (1 - mask), torch.zeros_like(z)), "the sample must be zero on padded frames"


def test_posterior_encoder_matches_official(golden_encoders, synth_inputs, synth_modules):
    spectrogram, audio = synth_inputs["x_linear"], synth_inputs["x_audio"]
    mask = torch.ones(1, 1, spectrogram.shape[-1])
    style = synth_modules["emb_g/out"][:1, :, None]
    with torch.no_grad():
        _, mean, log_std = golden_encoders["enc_q"](spectrogram, audio, mask, g=style)
    torch.testing.assert_close(mean, synth_modules["enc_q/m"], **TOLERANCE)
    torch.testing.assert_close(log_std, synth_modules["enc_q/logs"], **TOLERANCE)


def test_sample_with_official_noise(golden_encoders, synth_inputs, synth_vc):
    """`infer` keeps enc_p_l's own sample (noise scale 1): given the recorded draw, our z is the official z."""
    assert synth_vc["infer/noise_call_index"] == 0, "the recorded draw must be enc_p_l's own"
    features, log_f0 = synth_inputs["w2v_b2"][:1], synth_inputs["f0_b2"][:1]
    mask = torch.ones(1, 1, features.shape[-1])            # infer: one clip, full length
    style = synth_vc["infer/emb_g"][..., None]
    with torch.no_grad():
        z, _, _ = golden_encoders["enc_p_l"](features, log_f0, mask, g=style, noise=synth_vc["infer/noise"])
    torch.testing.assert_close(z, synth_vc["infer/enc_p_l/0"], **TOLERANCE)


def test_voice_conversion_statistics(golden_encoders, synth_inputs, synth_vc):
    """`voice_conversion` (noise scale 0) records enc_p_l's (m_p, logs_p) for the prompt's style."""
    features, log_f0 = synth_inputs["w2v_b2"][:1], synth_inputs["f0_b2"][:1]
    mask = torch.ones(1, 1, features.shape[-1])
    style = synth_vc["vc_ns0/emb_g"][..., None]
    with torch.no_grad():
        _, mean, log_std = golden_encoders["enc_p_l"](features, log_f0, mask, g=style, noise_scale=0.0)
    torch.testing.assert_close(mean, synth_vc["vc_ns0/enc_p_l/1"], **TOLERANCE)
    torch.testing.assert_close(log_std, synth_vc["vc_ns0/enc_p_l/2"], **TOLERANCE)


def test_missing_filter_mask_would_be_caught(golden_encoders, semantic_inputs, synth_modules):
    """The fixture sees the mask after `pre_filter`: without it the padded row moves, the full row does not."""
    features, log_f0, mask, style = semantic_inputs
    encoder = golden_encoders["enc_p_l"]
    with torch.no_grad():
        source = encoder.source_enc(encoder.pre_source(features) * mask, mask, g=style)
        pitch = encoder.filter_enc(encoder.pre_filter(log_f0), mask, g=style)        # mask forgotten here
        stats = encoder.proj(encoder.enc(source + pitch, mask, g=style)) * mask
    mean = stats[:, :encoder.out_channels]
    expected = synth_modules["enc_p_l/m"]
    torch.testing.assert_close(mean[0], expected[0], **TOLERANCE)                   # row 0 has no padding
    assert (mean[1] - expected[1]).abs().max() > MASK_EFFECT_FLOOR


@pytest.mark.parametrize("prefix", ALL_PREFIXES)
def test_full_size_layout_matches_manifest(manifest, prefix):
    encoder = _build(prefix, released_config("synthesizer"))
    ours = {key: (list(value.shape), str(value.dtype).removeprefix("torch."))
            for key, value in encoder.state_dict().items()}
    released = {key[len(prefix) + 1:]: (entry["shape"], entry["dtype"])
                for key, entry in manifest.items() if key.startswith(prefix + ".")}
    assert released, f"no {prefix}.* keys in the manifest"
    missing, unexpected = sorted(released.keys() - ours.keys()), sorted(ours.keys() - released.keys())
    assert not missing and not unexpected, (missing, unexpected)
    assert ours == released
    assert list(ours) == list(released), "registration order should follow the released state dict"
