"""Checkpoint compatibility of SpeechSR (notebook 16): the full-size models have exactly the released layout
(keys, shapes, dtypes, parameter/buffer kinds and counts of ../shared/reference/hierspeechpp_speechsr{24k,48k}_state_dict.json),
the real released files in ../shared/reference/checkpoints/ load strictly through `load_checkpoint`, and files
that do not fit give the documented error (a ValueError naming the file and the missing / unexpected /
mis-shaped keys).

The same released files ship inside the package (hierspeech_nb/released/, package data): they are byte for byte
the shared ones, `released_speechsr` loads them strictly and gives what `load_checkpoint` gives on the shared
file, pyproject.toml lists them as package data, git does not ignore them, and a built wheel contains them."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest
import torch

from conftest import REPO
from hierspeech_nb.config import SpeechSRConfig, load_config
from hierspeech_nb.models import check_state_dict, create_model, load_checkpoint, read_state_dict
from hierspeech_nb.speechsr import (RELEASED_SPEECHSR_DIR, RELEASED_SPEECHSR_FILES, released_speechsr,
                                    released_speechsr_path)

NAMES = ["speechsr24k", "speechsr48k"]


def _manifest(shared_reference, name: str) -> dict:
    return json.loads((shared_reference / f"hierspeechpp_{name}_state_dict.json").read_text())


def _checkpoint_path(shared_reference, manifest: dict):
    (relative,) = manifest["checkpoint_files"]            # e.g. "speechsr48k/G_100000.pth"
    return shared_reference / "checkpoints" / relative


@pytest.fixture(scope="module", params=NAMES)
def released(request, shared_reference):
    "(name, manifest, full-size model with random weights)."
    torch.manual_seed(0)
    return request.param, _manifest(shared_reference, request.param), create_model(request.param)


def test_layout_equals_manifest(released):
    name, manifest, model = released
    ours, expected = model.state_dict(), manifest["state_dict"]
    assert sorted(ours.keys() - expected.keys()) == [], "unexpected keys"
    assert sorted(expected.keys() - ours.keys()) == [], "missing keys"
    assert {k: list(v.shape) for k, v in ours.items()} == {k: v["shape"] for k, v in expected.items()}
    assert {k: str(v.dtype).replace("torch.", "") for k, v in ours.items()} == {k: v["dtype"] for k, v in expected.items()}
    assert len(ours) == manifest["num_state_dict_entries"]


def test_parameter_and_buffer_counts(released):
    name, manifest, model = released
    parameters, buffers = dict(model.named_parameters()), dict(model.named_buffers())
    kinds = {k: v["kind"] for k, v in manifest["state_dict"].items()}
    assert {k for k, kind in kinds.items() if kind == "parameter"} == set(parameters)
    assert {k for k, kind in kinds.items() if kind == "buffer"} == set(buffers)
    assert sum(p.numel() for p in parameters.values()) == manifest["num_parameters"]
    assert sum(b.numel() for b in buffers.values()) == manifest["num_buffer_elements"]
    for module, count in manifest["parameters_per_top_level_module"].items():
        assert sum(p.numel() for p in model.get_submodule(module).parameters()) == count, module
    for module, count in manifest["parameters_per_second_level_module"].items():
        assert sum(p.numel() for p in model.get_submodule(module).parameters()) == count, module


def test_both_rates_share_one_layout(shared_reference):
    "The two manifests are identical in layout: only the model name decides the output rate."
    first, second = (_manifest(shared_reference, name)["state_dict"] for name in NAMES)
    assert first == second


def test_released_config_file_matches_preset(released, shared_reference):
    "The config.json next to the released file describes the same model as our released preset."
    name, manifest, model = released
    path = _checkpoint_path(shared_reference, manifest).parent / "config.json"
    from_file, preset = load_config(name, path), load_config(name)
    assert isinstance(from_file, SpeechSRConfig)
    assert from_file.model.to_dict() == preset.model.to_dict()
    assert from_file.data.sampling_rate == preset.data.sampling_rate
    assert create_model(name, path).state_dict().keys() == model.state_dict().keys()


def test_real_file_loads_strictly(released, shared_reference):
    name, manifest, _ = released
    path = _checkpoint_path(shared_reference, manifest)
    container = torch.load(path, map_location="cpu", weights_only=True)
    assert "model" in container, manifest["checkpoint_format"]
    model = load_checkpoint(name, path)
    assert not model.training
    assert model.output_rate == load_config(name).data.sampling_rate
    loaded = model.state_dict()
    assert loaded.keys() == container["model"].keys()
    for key, value in container["model"].items():
        assert torch.equal(loaded[key], value), key
    assert read_state_dict(path).keys() == loaded.keys()


def test_real_file_loads_folded(released, shared_reference):
    "fold=True folds the weight norm of the 19 normed convolutions and keeps the output."
    name, manifest, _ = released
    path = _checkpoint_path(shared_reference, manifest)
    x = torch.randn(1, 1, 300, generator=torch.Generator().manual_seed(0)) * 0.1
    plain, folded = load_checkpoint(name, path), load_checkpoint(name, path, fold=True)
    assert not any(key.endswith("weight_g") for key in folded.state_dict())
    with torch.inference_mode():
        torch.testing.assert_close(folded(x), plain(x), rtol=0, atol=1e-6)


def test_tiny_model_rejects_real_file(shared_reference):
    "A released file loaded into the tiny config: every weight is mis-shaped, and the message says so."
    name = "speechsr48k"
    path = _checkpoint_path(shared_reference, _manifest(shared_reference, name))
    with pytest.raises(ValueError) as error:
        load_checkpoint(name, path, config="tiny")
    message = str(error.value)
    tiny, full = create_model(name, "tiny").state_dict(), create_model(name).state_dict()
    num_misshaped = sum(tiny[key].shape != full[key].shape for key in full)   # all but the filter buffers
    conv_post = f"dec.conv_post.weight (file {tuple(full['dec.conv_post.weight'].shape)}, " \
                f"model {tuple(tiny['dec.conv_post.weight'].shape)})"
    for part in (str(path), f"{num_misshaped} mis-shaped", conv_post,
                 "Check that the file and the model name/config belong together"):
        assert part in message, message


def test_mismatched_file_lists_keys(shared_reference, tmp_path):
    "A file with a missing, an unexpected and a mis-shaped key (official container) names each of them."
    name = "speechsr24k"
    path = _checkpoint_path(shared_reference, _manifest(shared_reference, name))
    container = torch.load(path, map_location="cpu", weights_only=True)
    state_dict = dict(container["model"])
    state_dict.pop("dec.conv_post.weight")
    state_dict["dec.cond.weight"] = torch.zeros(32, 256, 1)            # the unused style conditioning
    state_dict["dec.activation_post.act.alpha"] = torch.zeros(16)
    broken = tmp_path / "G_broken.pth"
    torch.save({**container, "model": state_dict}, broken)
    with pytest.raises(ValueError) as error:
        load_checkpoint(name, broken)
    message = str(error.value)
    for part in (str(broken), "1 missing: dec.conv_post.weight", "1 unexpected: dec.cond.weight",
                 "1 mis-shaped: dec.activation_post.act.alpha (file (16,), model (32,))"):
        assert part in message, message


def test_synthesizer_file_is_not_speechsr(tmp_path):
    "A bare state dict of another model: the error lists what SpeechSR misses."
    path = tmp_path / "not_speechsr.pth"
    torch.save({"emb_g.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(ValueError, match=r"134 missing: dec\.activation_post") as error:
        load_checkpoint("speechsr48k", path)
    assert "1 unexpected: emb_g.weight" in str(error.value)


# --- the copies that ship with the package (hierspeech_nb/released/) ---
RATES = sorted(RELEASED_SPEECHSR_FILES)                      # [24000, 48000]
BUNDLED = ["LICENSE", "README.md", "speechsr24k/G_340000.pth", "speechsr24k/config.json",
           "speechsr48k/G_100000.pth", "speechsr48k/config.json"]


def _shared_file(shared_reference, rate: int):
    name = RELEASED_SPEECHSR_FILES[rate][0]
    return _checkpoint_path(shared_reference, _manifest(shared_reference, name))


@pytest.mark.parametrize("rate", RATES)
def test_bundled_files_are_the_released_ones(rate, shared_reference):
    "Byte for byte the official files (checkpoint and config), at the official relative path."
    name, relative = RELEASED_SPEECHSR_FILES[rate]
    bundled, shared = released_speechsr_path(rate), _shared_file(shared_reference, rate)
    assert bundled == RELEASED_SPEECHSR_DIR / relative and bundled.parent.name == name
    assert relative == _manifest(shared_reference, name)["checkpoint_files"][0]
    assert bundled.read_bytes() == shared.read_bytes()
    assert (bundled.parent / "config.json").read_bytes() == (shared.parent / "config.json").read_bytes()
    assert "Copyright (c) 2024 Sang-Hoon Lee" in (RELEASED_SPEECHSR_DIR / "LICENSE").read_text()


@pytest.mark.parametrize("rate", RATES)
def test_bundled_file_loads_strictly(rate):
    "Every key of the bundled file fits the released-size model (no missing, unexpected or mis-shaped key)."
    name = RELEASED_SPEECHSR_FILES[rate][0]
    path = released_speechsr_path(rate)
    model, state_dict = create_model(name), read_state_dict(path)
    check_state_dict(model, state_dict, source=str(path))          # raises on any mismatch
    model.load_state_dict(state_dict, strict=True)
    config = load_config(name, path.parent / "config.json")
    assert config.data.sampling_rate == rate and config.model.to_dict() == load_config(name).model.to_dict()


@pytest.mark.parametrize("optimize", [False, True], ids=["plain", "optimized"])
@pytest.mark.parametrize("rate", RATES)
def test_released_speechsr_equals_load_checkpoint(rate, optimize, shared_reference):
    "`released_speechsr(rate)` is `load_checkpoint(name, shared file)`: same weights, same output bit for bit."
    name = RELEASED_SPEECHSR_FILES[rate][0]
    ours = released_speechsr(rate, optimize=optimize)
    reference = load_checkpoint(name, _shared_file(shared_reference, rate), optimize=optimize)
    assert ours.output_rate == rate and not ours.training
    assert type(ours.dec) is type(reference.dec)
    assert ours.state_dict().keys() == reference.state_dict().keys()
    for key, value in reference.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    x = torch.randn(1, 1, 401, generator=torch.Generator().manual_seed(0)) * 0.1
    with torch.inference_mode():
        output = ours(x)
        assert torch.equal(output, reference(x))
    assert output.shape[-1] == 401 * rate // 16_000


def test_released_speechsr_weights_differ_between_rates():
    "Two trainings, two sets of weights: a mix-up of the files would show here."
    low, high = (released_speechsr(rate, optimize=False) for rate in RATES)
    assert not torch.equal(low.dec.conv_post.weight, high.dec.conv_post.weight)


@pytest.mark.parametrize("rate", [16_000, 22_050, 44_100, "48k"])
def test_released_speechsr_refuses_other_rates(rate):
    with pytest.raises(ValueError, match=r"has no released SpeechSR; choose one of \[24000, 48000\]"):
        released_speechsr(rate)


def test_package_data_lists_the_released_files():
    "pyproject.toml's package-data globs match exactly the files under hierspeech_nb/released/."
    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["hierspeech_nb"]
    package = REPO / "hierspeech_nb"
    listed = {path.relative_to(package / "released").as_posix() for pattern in patterns
              for path in package.glob(pattern) if path.is_file()}
    present = {path.relative_to(package / "released").as_posix()
               for path in (package / "released").rglob("*") if path.is_file()}
    assert listed == present == set(BUNDLED)


def test_git_does_not_ignore_the_released_files():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    paths = [f"hierspeech_nb/released/{name}" for name in BUNDLED]
    done = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == "", f"ignored by .gitignore: {done.stdout}"


def test_wheel_ships_the_released_files(tmp_path):
    "A non-editable build (what `pip install .` installs) contains the released files."
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "hierspeech_nb", source / "hierspeech_nb", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(tmp_path / "dist")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("hierspeech_nb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"hierspeech_nb/released/{name}" for name in BUNDLED} <= names
