"""Every code cell of every notebook, flagged or not, uses only names it defines or imports.

CI skips the cells flagged `#| slow`, `#| gpu` or `#| download` (they need time, a GPU, the internet or the
released weights), so a typo there would first show on the one machine where the cell can run. pyflakes reads each
notebook as one module, its code cells in order (IPython magics and shell lines left out), and reports undefined
names, which is all we ask of it here: no style checks."""
from __future__ import annotations

import ast
import json

import pytest
from pyflakes import checker, messages

from conftest import NBS

NOTEBOOKS = sorted(p for p in NBS.glob("*.ipynb") if not p.name.startswith("_"))
IPYTHON_NAMES = {"display", "get_ipython"}   # what a notebook kernel provides besides Python's builtins


def notebook_module(path) -> str:
    "The code cells of a notebook as one Python module (magics and shell escapes dropped)."
    cells = [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
    lines = []
    for cell in cells:
        source = "".join(cell["source"])
        lines += [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        lines.append("")
    return "\n".join(lines)


def undefined_names(source: str, filename: str) -> list[str]:
    "pyflakes' undefined-name reports for `source`, as 'line: message'."
    found = checker.Checker(ast.parse(source, filename=filename), filename=filename).messages
    return [f"{message.lineno}: {message.message % message.message_args}" for message in found
            if isinstance(message, (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport))
            and message.message_args[0] not in IPYTHON_NAMES]


def test_the_check_finds_an_undefined_name():
    source = "#| download\nfrom pathlib import Path\nprint(Path('.'), SAMPLE_RATE)\n"
    assert undefined_names(source, "example") == ["3: undefined name 'SAMPLE_RATE'"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_cell_defines_what_it_uses(notebook):
    assert undefined_names(notebook_module(notebook), notebook.name) == []
