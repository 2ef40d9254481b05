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
