"""The tiny TTV against the official code: the golden float16 state dict loads strictly into
`create_model("ttv", ttv_tiny_config.json)`, and every recorded submodule, inference and training-forward output
(replaying the recorded noise) matches within the README's tolerance (atol 1e-4 / rtol 1e-4 for tensors, rtol 1e-5
for the losses; durations, w_ceil, attention and MAS paths exactly). One test per fixture key."""
from __future__ import annotations

import pytest
import torch

from hierspeech_nb.accel import optimize_for_inference
from hierspeech_nb.models import create_model
from hierspeech_nb.ttv import PITCH_SEGMENT_FRAMES, frame_log_likelihood, ttv_infer, ttv_training_forward
from hierspeech_nb.ttv_training import pitch_target, ttv_losses

TENSOR_TOLERANCE = dict(rtol=1e-4, atol=1e-4)   # README: float32 vs float64 of the official code <= 2.2e-5
LOSS_TOLERANCE = dict(rtol=1e-5, atol=0.0)
EXACT = dict(rtol=0.0, atol=0.0)


@pytest.fixture(scope="module", params=["plain", "optimized"])
def ttv(golden_dir, request):
    "The golden TTV: the lesson modules, or after optimize_for_inference (for the TTV: weight norm folded)."
    model = create_model("ttv", golden_dir / "ttv_tiny_config.json")
    state_dict = torch.load(golden_dir / "ttv_tiny_state_dict.pt", weights_only=True)
    model.load_state_dict(state_dict, strict=True)          # float16 storage, cast into float32 parameters
    if request.param == "optimized":
        model = optimize_for_inference(model)
        assert not any(key.endswith("weight_g") for key in model.state_dict())
    return model.eval()


@pytest.fixture(scope="module")
def modules(golden_dir):
    return torch.load(golden_dir / "ttv_tiny_modules.pt", weights_only=True)


@pytest.fixture(scope="module")
def infer(golden_dir):
    return torch.load(golden_dir / "ttv_tiny_infer.pt", weights_only=True)


@pytest.fixture(scope="module")
def train(golden_dir):
    return torch.load(golden_dir / "ttv_tiny_train.pt", weights_only=True)


def test_state_dict_loads_strictly(golden_dir):
    state_dict = torch.load(golden_dir / "ttv_tiny_state_dict.pt", weights_only=True)
    model = create_model("ttv", golden_dir / "ttv_tiny_config.json")
    assert set(model.state_dict()) == set(state_dict)
    assert all(model.state_dict()[k].shape == v.shape for k, v in state_dict.items())
    model.load_state_dict(state_dict, strict=True)


# --- submodules (ttv_tiny_modules.pt) ---

def _module_outputs(ttv, modules) -> dict:
    "Our outputs for every recorded submodule key, each from the recorded inputs of that call."
    inputs, noise = modules["inputs"], modules["noise"]
    g = modules["style_g"][..., None]
    x, x_mask, dec_mask = modules["enc_p_x"], modules["x_mask"], modules["dec_mask"]
    with torch.no_grad():
        y_mask = (torch.arange(inputs["mel"].shape[-1])[None, None] < inputs["y_lengths"][:, None, None]).float()
        encoding = ttv.enc_p(inputs["text"], inputs["text_lengths"], g)
        posterior = ttv.enc_q(noise["pp_w2v"], dec_mask, g, noise=noise["enc_q_eps"])
        return {
            "style_g": ttv.emb_g(inputs["mel"], y_mask),
            "enc_p_x": encoding.hidden, "enc_p_m": encoding.prior_mean, "enc_p_logs": encoding.prior_log_std,
            "x_mask": encoding.text_mask,
            "dp_reverse_logw": ttv.dp.sample_log_durations(x, x_mask, g, 1.0, noise["dp_reverse_z"]),
            "dp_reverse_logw_noise0": ttv.dp.sample_log_durations(x, x_mask, g, 0.0, noise["dp_reverse_z"]),
            "dp_forward_nll": ttv.dp(x, x_mask, modules["dp_forward_w"], g, noise=noise["dp_forward_e_q"]),
            "enc_q_z": posterior.z, "enc_q_m": posterior.mean, "enc_q_logs": posterior.log_std,
            "flow_forward": ttv.flow(modules["enc_q_z"], dec_mask, g)[0],
            "flow_reverse": ttv.flow(modules["enc_q_z"], dec_mask, g, reverse=True)[0],
            "ctc_logits": ttv.phoneme_classifier(modules["enc_q_z"] * dec_mask),
            "dec_out": ttv.w2v_decoder(noise["dec_z"], dec_mask, g),
            "pp_out": ttv.pp(noise["pp_w2v"], g),
        }


MODULE_KEYS = ["style_g", "enc_p_x", "enc_p_m", "enc_p_logs", "x_mask", "dp_reverse_logw", "dp_reverse_logw_noise0",
               "dp_forward_nll", "enc_q_z", "enc_q_m", "enc_q_logs", "flow_forward", "flow_reverse", "ctc_logits",
               "dec_out", "pp_out"]


@pytest.fixture(scope="module")
def module_outputs(ttv, modules):
    return _module_outputs(ttv, modules)


def test_module_keys_are_covered(modules):
    recorded = set(modules) - {"inputs", "noise", "dec_mask", "dp_forward_w"}
    assert recorded == set(MODULE_KEYS)
    # the durations given to dp are the recorded draw, zero on padded tokens
    torch.testing.assert_close(modules["dp_forward_w"], modules["noise"]["dp_forward_w"] * modules["x_mask"], **EXACT)


@pytest.mark.parametrize("key", MODULE_KEYS)
def test_module_output(module_outputs, modules, key):
    torch.testing.assert_close(module_outputs[key], modules[key], **TENSOR_TOLERANCE)


# --- inference (ttv_tiny_infer.pt) ---

def _run_infer(ttv, infer, run: str):
    inputs, recorded = infer["inputs"], infer[run]
    prompt_mel, prompt_lengths = inputs["prompt_mel"], inputs["prompt_lengths"]
    denoise_ratio = recorded.get("denoise_ratio", 0.0)
    if run == "noise_control":
        prompt_mel = torch.cat([prompt_mel, inputs["prompt_mel_denoised_standin"]])
        prompt_lengths = torch.cat([prompt_lengths, prompt_lengths])
    duration_noise, prior_noise = recorded["randn_calls"]
    return ttv_infer(ttv, inputs["text"], inputs["text_lengths"], prompt_mel, prompt_lengths,
                     noise_scale=recorded["noise_scale"], noise_scale_w=recorded["noise_scale_w"],
                     length_scale=recorded["length_scale"], denoise_ratio=denoise_ratio,
                     duration_noise=duration_noise, prior_noise=prior_noise)


INFER_RUNS = ["zero_noise", "sampled", "noise_control"]
INFER_KEYS = {"logw": ("log_durations", TENSOR_TOLERANCE), "w_ceil": ("durations", EXACT),
              "attn": ("attention", EXACT), "w2v": ("w2v", TENSOR_TOLERANCE), "pitch": ("pitch", TENSOR_TOLERANCE)}


@pytest.fixture(scope="module")
def infer_outputs(ttv, infer):
    return {run: _run_infer(ttv, infer, run) for run in INFER_RUNS}


def test_infer_runs_are_covered(infer):
    assert set(infer) - {"inputs"} == set(INFER_RUNS)
    for run in INFER_RUNS:
        assert set(INFER_KEYS) <= set(infer[run])


@pytest.mark.parametrize("run", INFER_RUNS)
@pytest.mark.parametrize("key", list(INFER_KEYS))
def test_infer_output(infer_outputs, infer, run, key):
    attribute, tolerance = INFER_KEYS[key]
    torch.testing.assert_close(getattr(infer_outputs[run], attribute), infer[run][key], **tolerance)


@pytest.mark.parametrize("run", INFER_RUNS)
def test_infer_lengths(infer_outputs, infer, run):
    assert int(infer_outputs[run].lengths) == infer[run]["w2v"].shape[-1]


# --- training forward and losses (ttv_tiny_train.pt) ---

def _segment_starts(train) -> torch.Tensor:
    "The official `rand_slice_segments` ids from the recorded uniform draw."
    room = train["inputs"]["lengths"] - PITCH_SEGMENT_FRAMES + 1
    return (train["noise"]["slice_rand"] * room).clip(0).long()


@pytest.fixture(scope="module")
def train_outputs(ttv, train):
    inputs, noise = train["inputs"], train["noise"]
    with torch.no_grad():
        output = ttv_training_forward(ttv, inputs["w2v"], inputs["lengths"], inputs["text"], inputs["text_lengths"],
                                      inputs["mel"], posterior_noise=noise["enc_q_eps"],
                                      segment_starts=_segment_starts(train), duration_noise=noise["dp_e_q"])
        coefficients = train["coefficients"]
        losses = ttv_losses(output, inputs["w2v"], torch.log(inputs["f0_hz"] + 1), inputs["text_for_ctc"],
                            inputs["text_ctc_lengths"], c_mel=coefficients["c_mel"], c_kl=coefficients["c_kl"],
                            c_f0=coefficients["c_f0"])
    return output, losses


def test_noise_order(train):
    assert train["noise_call_order"] == ["randn", "rand", "randn"]   # enc_q eps, segment draw, dp e_q: our order


def test_ids_slice(train):
    torch.testing.assert_close(_segment_starts(train), train["ids_slice"], **EXACT)


TRAIN_KEYS = {"w2v_predicted": "w2v_predicted", "z": "z", "z_p": "z_p", "m_q": "posterior_mean",
              "logs_q": "posterior_log_std", "m_p_expanded": "prior_mean", "logs_p_expanded": "prior_log_std",
              "y_mask": "frame_mask", "pitch_predicted": "pitch_predicted", "l_length": "duration_nll",
              "phoneme_logits": "phoneme_logits"}


@pytest.mark.parametrize("key", list(TRAIN_KEYS))
def test_training_forward_output(train_outputs, train, key):
    torch.testing.assert_close(getattr(train_outputs[0], TRAIN_KEYS[key]), train[key], **TENSOR_TOLERANCE)


def test_mas_neg_cent(ttv, train):
    inputs = train["inputs"]
    with torch.no_grad():
        mask = (torch.arange(inputs["mel"].shape[-1])[None, None] < inputs["lengths"][:, None, None]).float()
        g = ttv.emb_g(inputs["mel"], mask)[..., None]
        encoding = ttv.enc_p(inputs["text"], inputs["text_lengths"], g)
        neg_cent = frame_log_likelihood(train["z_p"], encoding.prior_mean, encoding.prior_log_std)
    torch.testing.assert_close(neg_cent, train["mas"]["neg_cent"], **TENSOR_TOLERANCE)


def test_mas_path(train_outputs, train):
    torch.testing.assert_close(train_outputs[0].attention, train["mas"]["path"], **EXACT)
    mask = train_outputs[0].frame_mask[:, 0, :, None] * train_outputs[0].text_mask[:, 0, None, :]
    torch.testing.assert_close(mask, train["mas"]["mask"], **EXACT)


def test_segment_starts(train_outputs, train):
    torch.testing.assert_close(train_outputs[0].segment_starts, train["ids_slice"], **EXACT)


def test_f0_target_slice(train_outputs, train):
    target = pitch_target(torch.log(train["inputs"]["f0_hz"] + 1), train_outputs[0].segment_starts)
    torch.testing.assert_close(target[:, 0], train["f0_target_slice"], **TENSOR_TOLERANCE)


LOSS_KEYS = {"loss_w2v": "w2v", "loss_kl": "kl", "loss_f0": "f0", "loss_dur": "dur", "loss_ctc": "ctc",
             "loss_total": "total"}


@pytest.mark.parametrize("key", list(LOSS_KEYS))
def test_loss(train_outputs, train, key):
    torch.testing.assert_close(train_outputs[1][LOSS_KEYS[key]], train[key], **LOSS_TOLERANCE)
