"""The parts of the course website that the tests share with `scripts/build_site` and `scripts/check_site`.

- `execute_notebook` runs a notebook exactly as `nbdev_test` does (the same cell flags skipped, the same
  in-process shell) and keeps the outputs, so the test run and the site build are one execution.
- The execution cache: a notebook executed by the tests or by the build is stored under a key made of the
  notebook's content, the skipped flags and the source of every library module it imports (followed through the
  package's own imports). A later build reuses it while that key still matches.
"""
from __future__ import annotations

import ast
import configparser
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NBS = REPO / "nbs"
LIB = REPO / "hierspeech_nb"
CACHE = Path(os.environ.get("HIERSPEECH_SITE_CACHE", REPO / "_build" / "site_cache"))
FORMAT_VERSION = "1"   # bump when what the cache stores changes


def skip_flags() -> list[str]:
    "The cell flags that `nbdev_test` and the site build skip (settings.ini's `tst_flags`)."
    config = configparser.ConfigParser()
    config.read(REPO / "settings.ini")
    return config["DEFAULT"].get("tst_flags", "").split()


def course_notebooks() -> list[Path]:
    "Every notebook of the course, in course order (file order, as the index's map checks)."
    return sorted(p for p in NBS.glob("*.ipynb") if not p.name.startswith("_"))


# --- what a notebook depends on -------------------------------------------------------------------------------
def _imported_modules(source: str) -> set[str]:
    "Names of `hierspeech_nb` modules that `source` imports; '*' when it uses the package's lazy top level."
    found = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:   # a cell with IPython magics: fall back to a regex
        return {m or "*" for m in re.findall(r"(?:from|import)\s+hierspeech_nb(?:\.(\w+))?", source)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 0 and node.module.split(".")[0] == "hierspeech_nb":
                parts = node.module.split(".")
                if len(parts) > 1: found.add(parts[1])
                else: found.update(alias.name if (LIB / f"{alias.name}.py").exists() else "*" for alias in node.names)
            elif node.level == 1:   # relative import inside the package
                found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "hierspeech_nb": found.add(parts[1] if len(parts) > 1 else "*")
    return found


def library_closure(modules: set[str]) -> list[str]:
    "The library modules that `modules` need, following the package's own imports; '*' means all of them."
    every = sorted(p.stem for p in LIB.glob("*.py"))
    todo, seen = set(modules), set()
    while todo:
        name = todo.pop()
        if name == "*":
            return every
        if name in seen or not (LIB / f"{name}.py").exists():
            continue
        seen.add(name)
        todo |= _imported_modules((LIB / f"{name}.py").read_text())
    return sorted(seen | {"__init__"} & set(every))


def notebook_dependencies(path: Path) -> list[str]:
    "The library modules whose source can change what notebook `path` prints."
    nb = json.loads(path.read_text())
    imported = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            imported |= _imported_modules("".join(cell["source"]))
    return library_closure(imported)


def cache_key(path: Path, flags: list[str] | None = None) -> str:
    "The key of notebook `path`'s execution: its content, the skipped flags and the source of what it imports."
    h = hashlib.sha256()
    h.update(f"format {FORMAT_VERSION}\nflags {' '.join(sorted(flags if flags is not None else skip_flags()))}\n".encode())
    h.update(path.read_bytes())
    for name in notebook_dependencies(path):
        h.update(f"\n-- {name}\n".encode())
        h.update((LIB / f"{name}.py").read_bytes())
    return h.hexdigest()


# --- running a notebook ---------------------------------------------------------------------------------------
def execute_notebook(path: Path, flags: list[str] | None = None, showerr: bool = True):
    """Run notebook `path` as `nbdev.test.test_nb` does; return (ok, seconds, executed notebook as a dict).

    The executed notebook is the stored notebook with each code cell's outputs filled in (skipped cells keep none)."""
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor

    path = Path(path).resolve()
    flags = set(skip_flags() if flags is None else flags)
    if "IN_NOTEBOOK" not in os.environ: os.environ["IN_TEST"] = "1"
    nb = NBProcessor(path, procs=FrontmatterProc, process=True).nb

    def _no_eval(cell):   # the same rule as nbdev.test.test_nb
        if cell.cell_type != "code": return True
        if "nbdev_export" + "(" in cell.source: return True
        directives = getattr(cell, "directives_", {}) or {}
        if directives.get("eval:", [""])[0].lower() == "false": return True
        return flags & directives.keys()

    start = time.time()
    shell = CaptureShell(path)
    try:
        with working_directory(path.parent):
            shell.run_all(nb, exc_stop=True, preproc=_no_eval)
        ok = True
    except BaseException:
        if showerr: sys.stderr.write(shell.prettytb(fname=path) + "\n")
        ok = False
    seconds = time.time() - start

    stored = json.loads(path.read_text())
    ran = [c for c in nb.cells if c.cell_type == "code"]
    code = [c for c in stored["cells"] if c["cell_type"] == "code"]
    if len(ran) != len(code):
        raise RuntimeError(f"{path.name}: {len(ran)} code cells ran but the file has {len(code)}")
    for cell, done in zip(code, ran):
        cell["outputs"] = [_plain(o) for o in (done.get("outputs") or [])]
        cell["execution_count"] = done.get("execution_count")
    return ok, seconds, stored


def _plain(value):
    "fastcore's AttrDict/L values as plain JSON types."
    if isinstance(value, dict): return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "L": return [_plain(v) for v in value]
    return value


# --- the cache ------------------------------------------------------------------------------------------------
def cache_file(path: Path, flags: list[str] | None = None) -> Path:
    return CACHE / f"{Path(path).stem}.{cache_key(path, flags)[:20]}.ipynb"


def save_execution(path: Path, executed: dict, seconds: float, flags: list[str] | None = None) -> Path:
    "Store an executed notebook under its key (atomically), dropping older entries of the same notebook."
    target = cache_file(path, flags)
    target.parent.mkdir(parents=True, exist_ok=True)
    executed = dict(executed, metadata=dict(executed.get("metadata", {}),
                                            hierspeech_site={"seconds": round(seconds, 2), "key": target.stem}))
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(executed))
    os.replace(tmp, target)
    for old in CACHE.glob(f"{Path(path).stem}.*.ipynb"):
        if old != target and old.name.split(".")[0] == Path(path).stem: old.unlink()
    return target


def load_execution(path: Path, flags: list[str] | None = None) -> dict | None:
    "The cached execution of notebook `path` if it is still current, else None."
    target = cache_file(path, flags)
    return json.loads(target.read_text()) if target.exists() else None
