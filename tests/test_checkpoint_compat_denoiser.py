"""The MP-SENet denoiser has exactly the layout of the released `denoiser/g_best` (manifest
../shared/reference/hierspeechpp_denoiser_mpsenet_state_dict.json): keys, shapes, dtypes and kinds, BatchNorm
buffers included; the file's "generator" container loads strictly; a file that does not fit gets the documented
error.

The manifest's `num_parameters` (2,048,849) counts parameters only. The buffers are counted apart in
`num_buffer_elements` (2,056 = 8 BatchNorm1d layers x (128 running_mean + 128 running_var + 1 num_batches_tracked));
all 353 `state_dict` entries, parameters and buffers, are listed with their kind."""
from __future__ import annotations

import json

import pytest
import torch

from hierspeech_nb.models import check_state_dict, create_model, load_checkpoint, read_state_dict

EXPECTED_PARAMETERS = 2_048_849


@pytest.fixture(scope="module")
def manifest(shared_reference) -> dict:
    return json.loads((shared_reference / "hierspeechpp_denoiser_mpsenet_state_dict.json").read_text())


@pytest.fixture(scope="module")
def full_denoiser():
    torch.manual_seed(0)
    return create_model("denoiser")          # released sizes (dense_channel 64), random weights


def test_keys_shapes_dtypes_equal_manifest(full_denoiser, manifest):
    ours = full_denoiser.state_dict()
    expected = manifest["state_dict"]
    assert sorted(ours.keys() - expected.keys()) == [], "unexpected keys"
    assert sorted(expected.keys() - ours.keys()) == [], "missing keys"
    assert {k: list(ours[k].shape) for k in expected} == {k: v["shape"] for k, v in expected.items()}
    assert {k: str(ours[k].dtype).replace("torch.", "") for k in expected} == {k: v["dtype"] for k, v in expected.items()}
    assert len(ours) == manifest["num_state_dict_entries"] == 353


def test_parameters_and_buffers_by_kind(full_denoiser, manifest):
    expected = manifest["state_dict"]
    parameters = dict(full_denoiser.named_parameters())
    buffers = dict(full_denoiser.named_buffers())
    assert {k for k, v in expected.items() if v["kind"] == "parameter"} == set(parameters)
    assert {k for k, v in expected.items() if v["kind"] == "buffer"} == set(buffers)
    assert sum(p.numel() for p in parameters.values()) == manifest["num_parameters"] == EXPECTED_PARAMETERS
    assert sum(b.numel() for b in buffers.values()) == manifest["num_buffer_elements"]
    assert {k.rsplit(".", 1)[-1] for k in buffers} == {"running_mean", "running_var", "num_batches_tracked"}
    assert buffers["TSConformer.0.time_conformer.ccm.ccm.5.num_batches_tracked"].dtype == torch.int64


def test_parameters_per_module(full_denoiser, manifest):
    for name, count in manifest["parameters_per_top_level_module"].items():
        assert sum(p.numel() for p in getattr(full_denoiser, name).parameters()) == count, name
    for path, count in manifest["parameters_per_second_level_module"].items():
        assert sum(p.numel() for p in full_denoiser.get_submodule(path).parameters()) == count, path


def _randomised(model) -> dict:
    "The model's state dict with every float entry replaced by fresh values (BatchNorm statistics too)."
    generator = torch.Generator().manual_seed(1)
    state = {}
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            state[key] = torch.rand(value.shape, generator=generator) + 0.5    # positive, so running_var stays valid
        else:
            state[key] = torch.full_like(value, 7)
    return state


def test_generator_container_loads_strictly(full_denoiser, tmp_path):
    state = _randomised(full_denoiser)
    path = tmp_path / "g_best"
    torch.save({"generator": state}, path)            # the released container: weights under "generator"
    assert read_state_dict(path).keys() == state.keys()
    model = load_checkpoint("denoiser", path)
    assert not model.training
    loaded = model.state_dict()
    for key in ("dense_encoder.dense_conv_1.0.weight", "mask_decoder.lsigmoid.slope",
                "TSConformer.3.freq_conformer.ccm.ccm.5.running_mean",
                "TSConformer.3.freq_conformer.ccm.ccm.5.running_var",
                "TSConformer.3.freq_conformer.ccm.ccm.5.num_batches_tracked"):
        assert torch.equal(loaded[key], state[key]), key


def test_missing_batchnorm_statistics_are_named(full_denoiser, tmp_path):
    state = {k: v for k, v in full_denoiser.state_dict().items() if "running_" not in k}
    path = tmp_path / "no_stats.pth"
    torch.save({"generator": state}, path)
    with pytest.raises(ValueError, match=r"does not fit MPSENet: 16 missing: .*running_mean") as error:
        load_checkpoint("denoiser", path)
    assert str(path) in str(error.value) and "file and the model name/config belong together" in str(error.value)


def test_tiny_file_into_full_model_is_misshaped(tmp_path):
    tiny = create_model("denoiser", "tiny")
    path = tmp_path / "tiny_g_best"
    torch.save({"generator": tiny.state_dict()}, path)
    full = create_model("denoiser").state_dict()
    differing = sum(full[k].shape != v.shape for k, v in tiny.state_dict().items())   # all but the scalar/1-bin ones
    with pytest.raises(ValueError, match=rf"does not fit MPSENet: {differing} mis-shaped: .*in_proj_weight "
                                         r"\(file \(48, 16\), model \(192, 64\)\)"):
        load_checkpoint("denoiser", path)
    assert load_checkpoint("denoiser", path, config="tiny").dense_encoder.dense_conv_1[0].out_channels == 16


def test_unexpected_keys_are_named(full_denoiser):
    state = dict(full_denoiser.state_dict())
    state["discriminator.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="1 unexpected: discriminator.weight"):
        check_state_dict(full_denoiser, state, source="checkpoint g_best")
