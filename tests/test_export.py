"""The library is generated: `nbdev_export` run on nbs/ must reproduce hierspeech_nb/ exactly."""
from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_library_matches_nbdev_export(tmp_path: Path):
    for name in ("settings.ini", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "nbs", tmp_path / "nbs")
    shutil.copytree(REPO / "hierspeech_nb", tmp_path / "hierspeech_nb",
                    ignore=shutil.ignore_patterns("__pycache__"))
    exporter = Path(sys.executable).with_name("nbdev_export")
    subprocess.run([str(exporter)], cwd=tmp_path, check=True, capture_output=True, text=True)
    generated = sorted(p.name for p in (tmp_path / "hierspeech_nb").glob("*.py"))
    committed = sorted(p.name for p in (REPO / "hierspeech_nb").glob("*.py"))
    assert generated == committed, f"module lists differ: exported {generated}, committed {committed}"
    different = [name for name in committed
                 if not filecmp.cmp(tmp_path / "hierspeech_nb" / name, REPO / "hierspeech_nb" / name, shallow=False)]
    assert not different, (f"hierspeech_nb/{different} differ from what nbdev_export makes of nbs/: "
                           "edit the notebook, never the exported .py, then run nbdev_export and commit both.")
