"""Run every notebook in nbs/ through nbdev's test runner: one pytest test per notebook.

Cells flagged with one of settings.ini's `tst_flags` (slow, gpu, download) are skipped, exactly as
`nbdev_test` does; run them with `nbdev_test --flags "slow gpu"` on a machine that has what they need."""
from __future__ import annotations

import configparser

import pytest
from nbdev.test import test_nb as run_notebook

from conftest import NBS, REPO


def _skip_flags() -> list[str]:
    config = configparser.ConfigParser()
    config.read(REPO / "settings.ini")
    return config["DEFAULT"].get("tst_flags", "").split()


NOTEBOOKS = sorted(p for p in NBS.glob("*.ipynb") if not p.name.startswith("_"))


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NBS}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(notebook, capsys):
    ok, seconds = run_notebook(notebook, skip_flags=_skip_flags(), showerr=True)
    assert ok, f"{notebook.name} failed (traceback above, in the captured stderr)"
