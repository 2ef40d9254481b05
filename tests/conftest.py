"""Shared pytest fixtures: where the repository, its notebooks and the shared reference data live."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NBS = REPO / "nbs"
DATA_SAMPLES = REPO / "data_samples"
# ../shared sits beside the checkout (developers and CI alike); HIERSPEECH_SHARED overrides it.
SHARED = Path(os.environ.get("HIERSPEECH_SHARED", REPO.parent / "shared"))
GOLDEN = SHARED / "reference" / "golden"


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    if not GOLDEN.is_dir():
        pytest.fail(f"golden fixtures not found at {GOLDEN}: put the project's shared/ folder beside the "
                    "checkout or set HIERSPEECH_SHARED to it (golden tests must not be skipped).")
    return GOLDEN


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    ref = SHARED / "reference"
    if not ref.is_dir():
        pytest.fail(f"shared reference data not found at {ref}: put shared/ beside the checkout "
                    "or set HIERSPEECH_SHARED.")
    return ref


# --- shared golden fixtures of the tiny official synthesizer (one load per test session) ---
@pytest.fixture(scope="session")
def tiny_config(golden_dir):
    from hierspeech_nb.config import SynthesizerConfig
    return SynthesizerConfig.from_json(golden_dir / "synth_tiny_config.json")


@pytest.fixture(scope="session")
def tiny_state_dict(golden_dir) -> dict:
    import torch
    return torch.load(golden_dir / "synth_tiny_state_dict.pt", weights_only=True)


@pytest.fixture(scope="session")
def synth_inputs(golden_dir) -> dict:
    import torch
    return torch.load(golden_dir / "synth_inputs.pt", weights_only=True)


@pytest.fixture(scope="session")
def synth_modules(golden_dir) -> dict:
    import torch
    return torch.load(golden_dir / "synth_modules.pt", weights_only=True)


@pytest.fixture(scope="session")
def synth_vc(golden_dir) -> dict:
    import torch
    return torch.load(golden_dir / "synth_vc.pt", weights_only=True)


@pytest.fixture(scope="session")
def manifest(shared_reference) -> dict:
    "Key -> {shape, dtype, kind} of the released synthesizer checkpoint."
    import json
    return json.loads((shared_reference / "hierspeechpp_synthesizer_state_dict.json").read_text())["state_dict"]


def with_prefix(state_dict: dict, prefix: str) -> dict:
    "The entries under `prefix`, with the prefix removed (a sub-module's state dict)."
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def w2v_io_clip(audio_fixture: dict, w2v_io: dict) -> str:
    "Which clip of frontend_audio.pt the MMS input of w2v_tiny_io.pt was made from (matched on its stored edges)."
    import torch
    prepared = w2v_io["input"]

    def edges_match(name: str) -> bool:
        head, tail = audio_fixture[f"{name}/w2v_input_head80"], audio_fixture[f"{name}/w2v_input_tail80"]
        if head.shape[-1] + tail.shape[-1] > prepared.shape[-1]:
            return False
        return torch.equal(prepared[:, :head.shape[-1]], head) and torch.equal(prepared[:, -tail.shape[-1]:], tail)

    matches = [name for name in audio_fixture["clip_names"] if edges_match(name)]
    if len(matches) != 1:
        pytest.fail(f"w2v_tiny_io.pt 'input' should start and end like exactly one clip of frontend_audio.pt "
                    f"(w2v_input_head80 / w2v_input_tail80), but it matches {matches or 'none'}: the two fixture "
                    "files do not belong together.")
    return matches[0]


# Golden tolerances hold for IEEE float32. On Ampere/Hopper GPUs cuDNN and matmul may use TF32 (10-bit mantissa)
# unless told not to, which would fail the golden tests there (issue 20, item 9): every test runs with TF32 off.
def pytest_configure(config):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    # HIERSPEECH_TEST_DEVICE=cuda runs the tests with new tensors and loaded fixtures on that device (the golden
    # tests on a GPU, as scripts/device_check.py does); unset, everything stays on the CPU.
    device = os.environ.get("HIERSPEECH_TEST_DEVICE")
    if device and device != "cpu":
        import functools
        torch.set_default_device(device)
        load = torch.load

        @functools.wraps(load)
        def load_on_device(*args, **kwargs):
            kwargs.setdefault("map_location", device)
            return load(*args, **kwargs)
        torch.load = load_on_device
