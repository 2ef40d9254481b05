"""The course website: the execution cache, the staging of a notebook, and the build + browser check.

The browser tests build the site (`scripts/build_site`) and open the front page, two lessons and two API pages in
headless Chromium (`scripts/check_site`); they skip, saying why, on a machine without Debian's chromium
(`apt-get install chromium`; `.ci/run` installs it). After `tests/test_notebooks.py` the executions come from the
cache that the notebook tests filled."""
from __future__ import annotations

import base64
import importlib.machinery
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import sitekit  # noqa: E402

CI_PAGES = ["index", "07_bit_flow", "14_monotonic_alignment_search"]
CI_API_PAGES = ["api/index", "api/flows"]


def _load_script(name: str):
    "A module from an extension-less script in scripts/."
    loader = importlib.machinery.SourceFileLoader(name, str(REPO / "scripts" / name))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


build_site = _load_script("build_site")
check_site = _load_script("check_site")


def _notebook(*cells) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": kind, "metadata": {}, "source": src, **({"outputs": outs, "execution_count": 1}
                                                                              if kind == "code" else {})}
                      for kind, src, outs in cells]}


def _wav_uri(seed: int) -> str:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(bytes([seed % 256, 0]) * 1600)
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode()


def _player(uri: str) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": "<Audio>", "text/html": f'<audio controls><source src="{uri}" type="audio/wav"/></audio>'}}


# --- the cache key --------------------------------------------------------------------------------------------
@pytest.fixture
def fake_repo(tmp_path, monkeypatch):
    "A copy of the library and one notebook that imports `hierspeech_nb.flows`, with sitekit pointed at them."
    lib = tmp_path / "hierspeech_nb"
    shutil.copytree(REPO / "hierspeech_nb", lib, ignore=shutil.ignore_patterns("__pycache__", "released"))
    nb = tmp_path / "nbs" / "99_uses_flows.ipynb"
    nb.parent.mkdir()
    nb.write_text(json.dumps(_notebook(("code", "from hierspeech_nb.flows import BiTFlow\nprint(1)", []))))
    monkeypatch.setattr(sitekit, "LIB", lib)
    return nb, lib


def test_cache_key_follows_the_notebook_and_what_it_imports(fake_repo):
    nb, lib = fake_repo
    deps = sitekit.notebook_dependencies(nb)
    assert "flows" in deps and "blocks" in deps          # flows imports blocks
    assert "cli" not in deps and "training" not in deps   # nothing flows needs
    key = sitekit.cache_key(nb, ["slow"])
    assert sitekit.cache_key(nb, ["slow"]) == key
    assert sitekit.cache_key(nb, ["slow", "gpu"]) != key  # other cells run

    (lib / "cli.py").write_text((lib / "cli.py").read_text() + "\n# an unrelated change\n")
    assert sitekit.cache_key(nb, ["slow"]) == key
    (lib / "blocks.py").write_text((lib / "blocks.py").read_text() + "\n# a change flows imports\n")
    key_blocks = sitekit.cache_key(nb, ["slow"])
    assert key_blocks != key
    nb.write_text(nb.read_text().replace("print(1)", "print(2)"))
    assert sitekit.cache_key(nb, ["slow"]) not in (key, key_blocks)


def test_the_package_top_level_means_every_module(tmp_path, monkeypatch):
    nb = tmp_path / "uses_top.ipynb"
    nb.write_text(json.dumps(_notebook(("code", "import hierspeech_nb as hs", []))))
    assert sitekit.notebook_dependencies(nb) == sorted(p.stem for p in sitekit.LIB.glob("*.py"))


def test_saved_execution_is_found_only_while_current(tmp_path, monkeypatch):
    monkeypatch.setattr(sitekit, "CACHE", tmp_path / "cache")
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps(_notebook(("code", "1 + 1", []))))
    done = _notebook(("code", "1 + 1", [{"output_type": "execute_result", "data": {"text/plain": "2"},
                                        "metadata": {}, "execution_count": 1}]))
    assert sitekit.load_execution(nb, []) is None
    sitekit.save_execution(nb, done, 0.5, [])
    assert sitekit.load_execution(nb, [])["cells"][0]["outputs"][0]["data"]["text/plain"] == "2"
    nb.write_text(json.dumps(_notebook(("code", "1 + 2", []))))
    assert sitekit.load_execution(nb, []) is None
    sitekit.save_execution(nb, done, 0.5, [])
    assert len(list((tmp_path / "cache").glob("nb.*.ipynb"))) == 1   # the stale entry was replaced


def test_execute_notebook_keeps_outputs_and_reports_failure(tmp_path):
    good = tmp_path / "good.ipynb"
    good.write_text(json.dumps(_notebook(("code", "#| hide\nx = 20", []), ("markdown", "text", None),
                                         ("code", "print(x + 1)", []), ("code", "#| slow\nprint('never')", []))))
    ok, _, executed = sitekit.execute_notebook(good, ["slow"], showerr=False)
    code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    assert ok and "21" in "".join(code[1]["outputs"][0]["text"]) and code[2]["outputs"] == []
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps(_notebook(("code", "raise ValueError('boom')", []))))
    assert sitekit.execute_notebook(bad, [], showerr=False)[0] is False


# --- staging --------------------------------------------------------------------------------------------------
def test_staging_hides_nbdev_cells_links_lessons_and_stores_each_sound_once(tmp_path):
    sound = _wav_uri(3)
    nb = _notebook(("code", "#| default_exp flows", []),
                   ("markdown", "# 07 · Title\n**Part I · the synthesizer**\n\nBuilds on `05_masks_and_wavenet`.", None),
                   ("code", "#| hide\nfrom fastcore.test import *", []),
                   ("code", "#| export\ndef f(): pass", []),
                   ("code", "#| slow\nlong_run()", []),
                   ("code", "plt.plot([1, 2])", [_player(sound), _player(sound)]))
    audio, sounds = tmp_path / "audio", {}
    page, info = build_site.stage_notebook(nb, {"05_masks_and_wavenet", "07_x"}, audio, sounds)
    sources = [c["source"] for c in page["cells"]]
    assert not any("default_exp" in s or "fastcore.test" in s for s in sources)
    assert "def f(): pass" in sources and "#| slow\nlong_run()" in sources
    assert "[`05_masks_and_wavenet`](05_masks_and_wavenet.ipynb)" in sources[0]
    assert info["players"] == 2 and info["draws"] and info["skipped"] == 1
    assert len(sounds) == 1 and len(list(audio.iterdir())) == 1           # one file for the repeated sound
    html = page["cells"][-1]["outputs"][0]["data"]["text/html"]
    assert "base64" not in html and re.search(r'src="_static/audio/[0-9a-f]{16}\.wav"', html)
    assert build_site.part_of(nb) == "Part I · the synthesizer"


def test_build_site_refuses_an_unknown_page(capsys):
    assert build_site.main(["--pages", "07_no_such_lesson", "--no-execute"]) == 2
    assert "07_no_such_lesson" in capsys.readouterr().err


def test_docments_become_parameter_lines():
    conf = importlib.util.module_from_spec(spec := importlib.util.spec_from_file_location("conf", REPO / "docs/conf.py"))
    spec.loader.exec_module(conf)
    from hierspeech_nb.flows import BiTFlow
    lines = ["Run the flow forward, or its exact inverse with `reverse=True`."]
    conf._docments_lines(None, "method", "BiTFlow.forward", BiTFlow.forward, {}, lines)
    assert lines[0].endswith("``reverse=True``.")
    assert any(line.startswith(":param x_mask:") for line in lines)


# --- the built site in a real browser -------------------------------------------------------------------------
def _browser_or_skip():
    if check_site.find_chromium() is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")
    pytest.importorskip("playwright.sync_api", reason="playwright is in the [docs] extra: pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def built_site():
    _browser_or_skip()
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "build_site"), "--pages", *CI_PAGES],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return REPO / "_site", run.stdout


def test_build_then_check_front_page_and_two_lessons(built_site):
    site, log = built_site
    manifest = json.loads((site / "site_manifest.json").read_text())["pages"]
    for stem in CI_PAGES:
        assert manifest[f"{stem}.html"]["executed"], f"{stem} was rendered without its outputs"
    assert manifest["07_bit_flow.html"]["figures"] > 0 and manifest["index.html"]["players"] > 0
    shots = REPO / "_build" / "site_check"
    for shot in ("front_page.png", "lesson_07_bit_flow.png"):
        (shots / shot).unlink(missing_ok=True)
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "check_site"), "--pages", *CI_PAGES, *CI_API_PAGES],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert len(re.findall(r"^ok ", run.stdout, re.M)) == len(CI_PAGES) + len(CI_API_PAGES)
    for shot in ("front_page.png", "lesson_07_bit_flow.png"):
        assert (shots / shot).stat().st_size > 10_000
    print(log, run.stdout)


def test_check_site_catches_a_broken_page(built_site, tmp_path):
    site, _ = built_site
    broken = tmp_path / "site"
    shutil.copytree(site, broken)
    page = broken / "07_bit_flow.html"
    html = page.read_text()
    # an equation MathJax was told to leave alone stands for one that was never typeset
    html = html.replace("</article>", '<p class="mathjax_ignore">$$ x = 1 $$</p><a href="no_such_lesson.html">x</a>'
                                      '<a href="index.html#no-such-anchor">y</a></article>', 1)
    html = re.sub(r'src="_static/audio/[0-9a-f]+\.wav"', 'src="_static/audio/missing.wav"', html)
    html = re.sub(r'src="_images/[^"]+"', 'src="_images/missing.png"', html, count=1)
    page.write_text(html)
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "check_site"), "--site", str(broken),
                          "--pages", "07_bit_flow", "--shots", str(tmp_path / "shots")],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 1, run.stdout
    for problem in ("raw $$", "no_such_lesson.html", "no anchor #no-such-anchor", "audio does not play",
                    "figure did not decode", "failed request"):
        assert problem in run.stdout, f"check_site missed: {problem}\n{run.stdout}"
