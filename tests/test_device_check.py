"""scripts/device_check.py in its CI mode (`--device cpu --tiny`), so the GPU check cannot rot: it runs every
section on tiny models and prints one markdown table with a row per case, all of them ok."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_device_check_tiny_mode_on_the_cpu(tmp_path):
    out = tmp_path / "device_check.md"
    done = subprocess.run([sys.executable, "scripts/device_check.py", "--device", "cpu", "--tiny", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and not line.startswith("| what")]
    cases = {tuple(cell.strip() for cell in row.strip("|").split("|")[:3]) for row in rows}
    for task in ("VC", "TTS"):
        for path in ("plain", "optimized"):
            for precision in ("fp32", "bf16"):
                assert (task, path, precision) in cases, cases
    assert {("train synthesizer", "batch 2", "fp32"), ("train ttv", "batch 2", "fp32")} <= cases
    assert any(row.startswith("| golden tests") and "passed" in row for row in rows)
    assert all(row.rstrip().endswith("| ok |") for row in rows), rows
