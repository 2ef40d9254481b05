"""Run every notebook in nbs/ through nbdev's test runner: one pytest test per notebook.

Cells flagged with one of settings.ini's `tst_flags` (slow, gpu, download) are skipped, exactly as
`nbdev_test` does; run them with `nbdev_test --flags "slow gpu"` on a machine that has what they need.

`scripts/sitekit.execute_notebook` is nbdev's `test_nb` keeping the outputs: a notebook that passes is stored in
the website's execution cache (`_build/site_cache/`, keyed by its content and the library source it imports), so
`scripts/build_site` after `pytest` executes nothing that the tests already ran."""
from __future__ import annotations

import sys

import pytest

from conftest import NBS, REPO

sys.path.insert(0, str(REPO / "scripts"))
import sitekit  # noqa: E402

NOTEBOOKS = sorted(p for p in NBS.glob("*.ipynb") if not p.name.startswith("_"))


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NBS}"
    assert NOTEBOOKS == sitekit.course_notebooks()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(notebook, capsys):
    flags = sitekit.skip_flags()
    ok, seconds, executed = sitekit.execute_notebook(notebook, flags, showerr=True)
    assert ok, f"{notebook.name} failed (traceback above, in the captured stderr)"
    sitekit.save_execution(notebook, executed, seconds, flags)
