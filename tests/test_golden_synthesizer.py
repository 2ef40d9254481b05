"""Golden tests of the whole synthesizer against the official code: the tiny golden state dict loads strictly into
`create_model("synthesizer", <golden config JSON>)`, and every recorded output of ../shared/reference/golden/
synth_vc.pt (official inference entry points, deterministic and with the recorded noise) and synth_modules.pt
(sub-modules) is reproduced — one test per fixture key, so a failure names the stage.

Tolerance: rtol = atol = 1e-5 on float tensors (golden README: float32 vs float64 runs of the official code differ
by <= 2.6e-7 on waveforms and <= 5.6e-6 on module outputs); `vc_ns0/int16_max` within 1 LSB.
Every test runs on the plain model and on the model `optimize_for_inference` returns (appendix A3)."""
from __future__ import annotations

import re

import pytest
import torch

from hierspeech_nb.accel import optimize_for_inference
from hierspeech_nb.blocks import sequence_mask
from hierspeech_nb.models import create_model

TOL = dict(rtol=1e-5, atol=1e-5)
METADATA = ("noise", "noise_call_index", "n_randn_like_calls")   # inputs of a case, not outputs
# a case's settings are in its name (golden README, synth_vc.pt table): vc_ns0.333, vc_ns0_uncond, vcnc_ns0_dr0.3
VC_CASE = re.compile(r"(?P<kind>vcnc|vc)_ns(?P<noise_scale>[0-9.]+)(?:_dr(?P<ratio>[0-9.]+))?(?P<uncond>_uncond)?")
F0_CASE = re.compile(r"f0ext_ns(?P<noise_scale>[0-9.]+)")


def _cases(recorded: dict, pattern: re.Pattern) -> dict:
    "Case name -> regex match, for every case of the fixture whose name matches `pattern`."
    names = {key.split("/", 1)[0] for key in recorded if "/" in key}
    return {name: match for name in sorted(names) if (match := pattern.fullmatch(name))}


@pytest.fixture(scope="module", params=["plain", "optimized"])
def setup(golden_dir, request):
    "The golden model (plain lesson modules, or after optimize_for_inference), its inputs, records and our outputs."
    model = create_model("synthesizer", golden_dir / "synth_tiny_config.json").eval()
    model.load_state_dict(torch.load(golden_dir / "synth_tiny_state_dict.pt", weights_only=True), strict=True)
    if request.param == "optimized":
        model = optimize_for_inference(model)
        assert type(model.dec).__name__ == "FastHierarchicalAdaptiveGenerator"
    inputs = torch.load(golden_dir / "synth_inputs.pt", weights_only=True)
    recorded = torch.load(golden_dir / "synth_vc.pt", weights_only=True)
    recorded.update(torch.load(golden_dir / "synth_modules.pt", weights_only=True))
    return model, inputs, recorded, _compute_all(model, inputs, recorded)


@torch.no_grad()
def _vc_stages(model, w2v, length, f0, g, noise_scale, noise=None, g_decoder=None):
    "The stages of voice conversion, by the official hook names."
    mask = sequence_mask(length, w2v.shape[-1])
    prior = model.enc_p_l(w2v, f0, mask, g=g)
    z = prior.mean if noise is None else prior.mean + noise * torch.exp(prior.log_std) * noise_scale
    flow_l, _ = model.flow_l(z * mask, mask, g=g, reverse=True)
    flow, _ = model.flow(flow_l, mask, g=g, reverse=True)
    g_decoder = g if g_decoder is None else g_decoder
    source, f0_prediction = model.sn(flow, g_decoder)
    return {"enc_p_l/1": prior.mean, "enc_p_l/2": prior.log_std, "enc_p_l.g_in": g, "flow_l": flow_l, "flow": flow,
            "sn/0": source, "sn/1": f0_prediction, "sn.g_in": g_decoder}


@torch.no_grad()
def _compute_all(model, inputs, recorded):
    "Our value for every fixture key."
    ours = {}
    w2v, f0 = inputs["w2v_b2"][:1], inputs["f0_b2"][:1]
    length = torch.tensor([w2v.shape[-1]])
    prompt = inputs["trg_mel_b2"]
    prompt_lengths = torch.full((prompt.shape[0],), prompt.shape[-1])
    styles = model.style(prompt, prompt_lengths)                                  # [2, 256, 1]
    vc_cases = _cases(recorded, VC_CASE)
    assert vc_cases, "synth_vc.pt holds no voice-conversion case"
    for case, match in vc_cases.items():
        noise_scale, ratio = float(match["noise_scale"]), float(match["ratio"] or 0.0)
        uncond = match["uncond"] is not None
        rows = 2 if match["kind"] == "vcnc" else 1          # noise control: [prompt, denoised prompt]
        noise = recorded.get(f"{case}/noise")
        ours[f"{case}/out"] = model.convert(w2v, length, f0, prompt[:rows], prompt_lengths[:rows],
                                            noise_scale=noise_scale, denoise_ratio=ratio, uncond=uncond, noise=noise)
        g = styles[:1] if rows == 1 else (1 - ratio) * styles[:1] + ratio * styles[1:]
        stages = _vc_stages(model, w2v, length, f0, g, noise_scale, noise, model.null_style(1) if uncond else None)
        ours.update({f"{case}/{key}": value for key, value in stages.items()})
        ours[f"{case}/emb_g"] = styles[:rows, :, 0]
    for case in vc_cases:                                   # the official int16 write-out of a converted clip
        out = ours[f"{case}/out"].squeeze()
        ours[f"{case}/int16_max"] = torch.from_numpy((out / out.abs().max() * 32767.0 * 0.999).numpy().astype("int16"))
    # reconstruction (infer) and F0 prediction (f0_extraction)
    mel, mel_length = inputs["x_mel"], torch.tensor([inputs["x_mel"].shape[-1]])
    mask = sequence_mask(mel_length, mel.shape[-1])
    ours["infer/out0"], ours["infer/out1"] = model.infer(mel, w2v, mel_length, f0, noise=recorded["infer/noise"])
    g = model.emb_g(mel, mask)
    ours["infer/emb_g"] = g
    ours["infer/enc_p_l/0"] = model.enc_p_l(w2v, f0, mask, g=g[..., None], noise=recorded["infer/noise"]).z
    z, _ = model.flow_l(ours["infer/enc_p_l/0"], mask, g=g[..., None], reverse=True)
    ours["infer/flow"], _ = model.flow(z, mask, g=g[..., None], reverse=True)
    for case, match in _cases(recorded, F0_CASE).items():
        noise_scale = float(match["noise_scale"])
        ours[f"{case}/out"] = model.predict_f0(inputs["x_linear"], mel, mel_length, inputs["x_audio"],
                                               noise_scale=noise_scale, noise=recorded.get(f"{case}/noise"))
        posterior = model.enc_q(inputs["x_linear"], inputs["x_audio"], mask, g=g[..., None])
        ours[f"{case}/enc_q/1"], ours[f"{case}/enc_q/2"] = posterior.mean, posterior.log_std
    ours.update(_modules(model, inputs, recorded))
    return ours


@torch.no_grad()
def _modules(model, inputs, recorded):
    "synth_modules.pt: each sub-module on the README's inputs."
    lengths = inputs["lengths_b2"]
    mask = sequence_mask(lengths, inputs["z_b2"].shape[-1])
    z = inputs["z_b2"] * mask
    g = recorded["emb_g/out"][..., None]
    ours = {"emb_g/out": model.emb_g(inputs["trg_mel_b2"], sequence_mask(inputs["trg_lengths_b2_masked"],
                                                                        inputs["trg_mel_b2"].shape[-1])),
            "emb/null_g": model.null_style(1)}
    for name in ("enc_p_l", "enc_p"):
        prior = getattr(model, name)(inputs["w2v_b2"], inputs["f0_b2"], mask, g=g)
        ours[f"{name}/m"], ours[f"{name}/logs"] = prior.mean, prior.log_std
    for name in ("flow_l", "flow"):
        ours[f"{name}/forward"], _ = getattr(model, name)(z, mask, g=g)
        ours[f"{name}/reverse"], _ = getattr(model, name)(z, mask, g=g, reverse=True)
    ours["sn/e"], ours["sn/e_"] = model.sn(z, g)
    ours["dec/out"] = model.dec(z, recorded["sn/e"], g=g)
    ours["mel_decoder/out"] = model.mel_decoder(z, mask, g)
    posterior = model.enc_q(inputs["x_linear"], inputs["x_audio"], torch.ones(1, 1, inputs["x_linear"].shape[-1]),
                            g=g[:1])
    ours["enc_q/m"], ours["enc_q/logs"] = posterior.mean, posterior.log_std
    return ours


def _fixture_keys(golden_dir_path):
    keys = []
    for name in ("synth_vc.pt", "synth_modules.pt"):
        keys += [k for k in torch.load(golden_dir_path / name, weights_only=True) if k.rsplit("/", 1)[-1] not in METADATA]
    return keys


from conftest import GOLDEN  # noqa: E402  (collection-time list of fixture keys)

KEYS = _fixture_keys(GOLDEN) if GOLDEN.is_dir() else ["<golden fixtures missing>"]


def test_tiny_golden_model_size(golden_dir, tiny_state_dict):
    "Our model built from the fixture's config has as many entries and elements as the fixture's state dict."
    ours = create_model("synthesizer", golden_dir / "synth_tiny_config.json").state_dict()
    assert len(ours) == len(tiny_state_dict)
    assert sum(v.numel() for v in ours.values()) == sum(v.numel() for v in tiny_state_dict.values())


@pytest.mark.parametrize("key", KEYS)
def test_fixture_key(setup, key):
    _, _, recorded, ours = setup
    assert key in ours, f"no computation for fixture key {key}"
    if key.endswith("int16_max"):
        difference = (ours[key].long() - recorded[key].long()).abs().max()
        assert difference <= 1, f"{key}: {difference} LSB"
    else:
        torch.testing.assert_close(ours[key], recorded[key], **TOL, msg=lambda m: f"{key}: {m}")


def test_recorded_noise_matters(setup):
    _, _, recorded, _ = setup
    assert (recorded["vc_ns0.333/out"] - recorded["vc_ns0/out"]).abs().max() > 1e-3
