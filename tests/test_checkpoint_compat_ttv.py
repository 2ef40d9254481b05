"""Checkpoint compatibility of the TTV: our full-size model has exactly the layout of the released
`ttv_lt960_ckpt.pth` (keys, shapes, dtypes, parameter counts from ../shared/reference/hierspeechpp_ttv_state_dict.json),
and such a file loads strictly through `load_checkpoint("ttv", ...)`."""
from __future__ import annotations

import json

import pytest
import torch

from hierspeech_nb.models import create_model, load_checkpoint

RELEASED_PARAMETERS = 108_542_704   # issue 7; the manifest must say the same


@pytest.fixture(scope="module")
def manifest(shared_reference) -> dict:
    return json.loads((shared_reference / "hierspeechpp_ttv_state_dict.json").read_text())


@pytest.fixture(scope="module")
def full_ttv():
    torch.manual_seed(0)
    return create_model("ttv")   # released sizes, random weights


def test_keys_equal_released(full_ttv, manifest):
    ours, expected = full_ttv.state_dict(), manifest["state_dict"]
    assert sorted(ours.keys() - expected.keys()) == [], "unexpected keys"
    assert sorted(expected.keys() - ours.keys()) == [], "missing keys"
    assert len(ours) == manifest["num_state_dict_entries"]


def test_shapes_and_dtypes_equal_released(full_ttv, manifest):
    ours, expected = full_ttv.state_dict(), manifest["state_dict"]
    wrong = {k: (list(ours[k].shape), v["shape"]) for k, v in expected.items() if list(ours[k].shape) != v["shape"]}
    assert wrong == {}
    wrong_dtype = {k for k, v in expected.items() if str(ours[k].dtype).replace("torch.", "") != v["dtype"]}
    assert wrong_dtype == set()


def test_parameter_counts_equal_released(full_ttv, manifest):
    kinds = {k: v["kind"] for k, v in manifest["state_dict"].items()}
    parameters = dict(full_ttv.named_parameters())
    assert {k for k, kind in kinds.items() if kind == "parameter"} == set(parameters)
    assert sum(p.numel() for p in parameters.values()) == manifest["num_parameters"] == RELEASED_PARAMETERS
    assert sum(b.numel() for b in full_ttv.buffers()) == manifest["num_buffer_elements"]
    for module, count in manifest["parameters_per_top_level_module"].items():
        assert sum(p.numel() for p in getattr(full_ttv, module).parameters()) == count, module
    for path, count in manifest["parameters_per_second_level_module"].items():   # a module or a parameter
        found = sum(p.numel() for name, p in parameters.items() if name == path or name.startswith(path + "."))
        assert found == count, path


def test_released_layout_loads_strictly(full_ttv, manifest, tmp_path):
    path = tmp_path / manifest["checkpoint_files"][0]
    torch.save(full_ttv.state_dict(), path)                  # the released container: a bare state dict
    model = load_checkpoint("ttv", path)
    assert not model.training
    key = "phoneme_classifier.weight"
    assert torch.equal(model.state_dict()[key], full_ttv.state_dict()[key])
