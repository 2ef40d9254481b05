"""Golden tests for BiT-Flow, the synthesizer's `flow_l` and `flow` (notebook 07, `hierspeech_nb.flows`), against the
official `ResidualCouplingBlock_Transformer` outputs in ../shared/reference/golden/synth_modules.pt.

Inputs (golden README, table under `synth_modules.pt`): `z = z_b2 * sequence_mask(lengths_b2)`, the same mask, and
`g = emb_g/out[..., None]` ([B, 256, 1]); the official call is `flow(z, m, g=g, reverse=False/True)`.

Tolerance: `torch.testing.assert_close(rtol=1e-5, atol=1e-5)`, as the README recommends for `synth_*` (the official code
in float64 differs from float32 by at most 2.5e-6 on module outputs). We measured a max |diff| of 2.0e-6: our blocks run
channel-first (LayerNorm on a transposed view), the official ones token-first, so float32 rounding differs slightly.
The full-size check compares our modules' state-dict keys, shapes and dtypes with the released checkpoint's manifest."""
from __future__ import annotations


import pytest
import torch
import torch.nn.functional as F

from hierspeech_nb.blocks import sequence_mask
from hierspeech_nb.config import SynthesizerConfig, released_config
from hierspeech_nb.flows import BiTFlow

from conftest import with_prefix as _with_prefix

TOLERANCE = dict(rtol=1e-5, atol=1e-5)   # golden README, section "Synthesizer": recommended for synth_*
FLOW_PREFIXES = ("flow_l", "flow")
# README sensitivity check: adding a key-padding mask to the DiT attention moves the padded row by 2e-2; we only
# require a change 100x above the tolerance, so the test says "the fixture can see a mask", not "by exactly 2e-2".
MASK_EFFECT_FLOOR = 1e-3


def _build_flow(config: SynthesizerConfig) -> BiTFlow:
    # as the official SynthesizerTrn: ResidualCouplingBlock_Transformer(inter, hidden, 5, 1, 3, gin_channels=gin)
    model = config.model
    return BiTFlow(model.inter_channels, model.hidden_channels, gin_channels=model.gin_channels)


@pytest.fixture(scope="module")
def golden_flows(tiny_config, tiny_state_dict) -> dict:
    flows = {}
    for prefix in FLOW_PREFIXES:
        flow = _build_flow(tiny_config)
        flow.load_state_dict(_with_prefix(tiny_state_dict, prefix + "."), strict=True)
        flows[prefix] = flow.eval()
    return flows


@pytest.fixture(scope="module")
def flow_inputs(synth_inputs, synth_modules) -> tuple:
    "(z, mask, g) exactly as the README's table defines them."
    latent, lengths = synth_inputs["z_b2"], synth_inputs["lengths_b2"]
    mask = sequence_mask(lengths, latent.shape[-1])
    return latent * mask, mask, synth_modules["emb_g/out"][..., None]


def test_fixture_has_a_padded_row(flow_inputs):
    _, mask, _ = flow_inputs
    assert mask.sum(-1).min() < mask.shape[-1], "row 1 must be padded, or the unmasked-attention quirk is untested"


@pytest.mark.parametrize("prefix", FLOW_PREFIXES)
@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_flow_matches_official(golden_flows, flow_inputs, synth_modules, prefix, direction):
    latent, mask, style = flow_inputs
    with torch.no_grad():
        out, log_det = golden_flows[prefix](latent, mask, style, reverse=direction == "reverse")
    torch.testing.assert_close(out, synth_modules[f"{prefix}/{direction}"], **TOLERANCE)
    # mean-only couplings and flips: log|det J| is exactly zero (the official block discards it)
    assert torch.equal(log_det, torch.zeros(latent.shape[0]))


@pytest.mark.parametrize("prefix", FLOW_PREFIXES)
def test_round_trip_with_golden_weights(golden_flows, flow_inputs, prefix):
    latent, mask, style = flow_inputs
    with torch.no_grad():
        forward, _ = golden_flows[prefix](latent, mask, style)
        back, _ = golden_flows[prefix](forward, mask, style, reverse=True)
    torch.testing.assert_close(back, latent, **TOLERANCE)


def test_attention_mask_would_be_caught(golden_flows, flow_inputs, synth_modules, monkeypatch):
    """The fixture tells the official unmasked attention from a masked one: only the padded row moves."""
    latent, mask, style = flow_inputs
    key_is_valid = mask[:, None].bool()                        # [B, 1, 1, T], broadcast over heads and queries
    fused = F.scaled_dot_product_attention

    def masked_attention(query, key, value, *args, **kwargs):
        return fused(query, key, value, attn_mask=key_is_valid)

    monkeypatch.setattr(F, "scaled_dot_product_attention", masked_attention)
    with torch.no_grad():
        out, _ = golden_flows["flow"](latent, mask, style)
    expected = synth_modules["flow/forward"]
    full_rows = mask.sum((1, 2)) == mask.shape[-1]
    torch.testing.assert_close(out[full_rows], expected[full_rows], **TOLERANCE)   # no padding: no change
    assert (out[~full_rows] - expected[~full_rows]).abs().max() > MASK_EFFECT_FLOOR


@pytest.mark.parametrize("prefix", FLOW_PREFIXES)
def test_full_size_layout_matches_manifest(manifest, prefix):
    flow = _build_flow(released_config("synthesizer"))
    ours = {key: (list(value.shape), str(value.dtype).removeprefix("torch."))
            for key, value in flow.state_dict().items()}
    released = {key[len(prefix) + 1:]: (entry["shape"], entry["dtype"])
                for key, entry in manifest.items() if key.startswith(prefix + ".")}
    assert released, f"no {prefix}.* keys in the manifest"
    missing, unexpected = sorted(released.keys() - ours.keys()), sorted(ours.keys() - released.keys())
    assert not missing and not unexpected, (missing, unexpected)
    assert ours == released
