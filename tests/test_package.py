"""The package namespace (hierspeech_nb/__init__.py): `import hierspeech_nb` is light (PEP 562 lazy names), and
every public name, `dir()`, `from hierspeech_nb import X` and submodule access keep working."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO

HEAVY = ("torch", "transformers", "hierspeech_nb.training", "hierspeech_nb.synthesizer", "hierspeech_nb.config")


def run_python(code: str) -> str:
    "Run `code` in a fresh interpreter (this checkout first on the path) and return its stdout."
    result = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n" + code],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bare_import_loads_no_heavy_module():
    out = run_python("import hierspeech_nb, json\n"
                     f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r})))")
    assert json.loads(out) == []


def test_every_public_name_resolves_and_is_listed():
    out = run_python("import hierspeech_nb, json\n"
                     "names = {n: getattr(hierspeech_nb, n).__module__ for n in hierspeech_nb.__all__}\n"
                     "print(json.dumps({'names': names, 'dir': dir(hierspeech_nb)}))")
    found = json.loads(out)
    assert len(found["names"]) == len(set(found["names"])) >= 49
    for name, module in found["names"].items():
        assert module.startswith("hierspeech_nb."), (name, module)
        assert name in found["dir"], name
    assert {"audio", "training"} <= set(found["dir"])          # submodules are listed too


def test_from_import_submodule_access_and_errors():
    out = run_python("from hierspeech_nb import Trainer, load_audio\n"
                     "import hierspeech_nb\n"
                     "assert hierspeech_nb.Trainer is Trainer and Trainer.__module__ == 'hierspeech_nb.training'\n"
                     "assert hierspeech_nb.audio.load_audio is load_audio\n"
                     "try:\n"
                     "    hierspeech_nb.no_such_name\n"
                     "except AttributeError as error:\n"
                     "    print(error)\n")
    assert "no attribute 'no_such_name'" in out
