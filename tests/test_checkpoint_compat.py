"""Checkpoint compatibility: our models have exactly the released state-dict layout (keys, shapes, dtypes,
parameter counts from ../shared/reference/*_state_dict.json), and bad checkpoint files get clear errors."""
from __future__ import annotations

import json

import pytest
import torch

from hierspeech_nb.models import create_model, load_checkpoint, read_state_dict


def _manifest(shared_reference, name):
    return json.loads((shared_reference / f"hierspeechpp_{name}_state_dict.json").read_text())


@pytest.fixture(scope="module")
def full_synthesizer():
    torch.manual_seed(0)
    return create_model("synthesizer")   # released sizes, random weights


def test_synthesizer_layout_equals_released(full_synthesizer, shared_reference):
    manifest = _manifest(shared_reference, "synthesizer")
    ours = full_synthesizer.state_dict()
    expected = manifest["state_dict"]
    assert sorted(ours.keys() - expected.keys()) == [], "unexpected keys"
    assert sorted(expected.keys() - ours.keys()) == [], "missing keys"
    wrong = {k: (list(ours[k].shape), expected[k]["shape"]) for k in expected if list(ours[k].shape) != expected[k]["shape"]}
    assert wrong == {}
    wrong_dtype = {k for k in expected if str(ours[k].dtype).replace("torch.", "") != expected[k]["dtype"]}
    assert wrong_dtype == set()
    assert len(ours) == manifest["num_state_dict_entries"]
    kinds = {k: v["kind"] for k, v in expected.items()}
    parameters = dict(full_synthesizer.named_parameters())
    assert {k for k, kind in kinds.items() if kind == "parameter"} == set(parameters)
    assert sum(p.numel() for p in parameters.values()) == manifest["num_parameters"] == 97_022_304
    for module, count in manifest["parameters_per_top_level_module"].items():
        assert sum(p.numel() for p in getattr(full_synthesizer, module).parameters()) == count, module


def test_released_layout_loads_strictly(full_synthesizer, tmp_path):
    path = tmp_path / "hierspeechpp_v1.1_ckpt.pth"
    torch.save(full_synthesizer.state_dict(), path)          # the released container: a bare state dict
    model = load_checkpoint("synthesizer", path)
    assert not model.training
    key = "dec.conv_post.weight"
    assert torch.equal(model.state_dict()[key], full_synthesizer.state_dict()[key])


def test_truncated_file_is_named(full_synthesizer, tmp_path):
    good = tmp_path / "good.pth"
    torch.save({"emb.weight": torch.zeros(1, 256)}, good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated or not a PyTorch checkpoint") as error:
        read_state_dict(truncated)
    assert str(truncated) in str(error.value)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="could not be read"):
        read_state_dict(garbage)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_state_dict(tmp_path / "missing.pth")


def test_mismatched_checkpoint_lists_keys(tmp_path):
    model = create_model("synthesizer", "tiny")
    state_dict = model.state_dict()
    state_dict.pop("emb.weight")
    state_dict["extra.weight"] = torch.zeros(1)
    state_dict["dec.conv_post.weight"] = torch.zeros(3, 3)
    path = tmp_path / "wrong.pth"
    torch.save({"model": state_dict, "iteration": 1}, path)   # the SpeechSR-style container is read too
    with pytest.raises(ValueError) as error:
        load_checkpoint("synthesizer", path, config="tiny")
    message = str(error.value)
    for part in (str(path), "1 missing: emb.weight", "1 unexpected: extra.weight", "1 mis-shaped: dec.conv_post.weight"):
        assert part in message, message


def test_not_yet_built_models_say_so(monkeypatch):
    from hierspeech_nb import models
    monkeypatch.setitem(models.MODEL_BUILDERS, "ttv", ("hierspeech_nb.not_written_yet", "build_ttv"))
    with pytest.raises(NotImplementedError, match="not built yet"):
        create_model("ttv", "tiny")
    with pytest.raises(ValueError, match="unknown model name"):
        create_model("vocoder")
