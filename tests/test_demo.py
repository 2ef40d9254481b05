"""The web demo of notebook 18b (`hierspeech-nb demo`): its two endpoints through `gradio_client`, the page in
headless Chromium, and the command's refusals of bad input. One server (tiny random pipeline, a thread on
127.0.0.1) serves the first two."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA_SAMPLES, REPO

gradio = pytest.importorskip("gradio", reason="the demo extra is not installed: pip install -e '.[demo]'")
pytest.importorskip("gradio_client", reason="the demo extra is not installed: pip install -e '.[demo]'")

from hierspeech_nb.cli import EXIT_BAD_INPUT, main   # noqa: E402

SOURCE = DATA_SAMPLES / "lvx_ss01_0880.wav"           # 2.99 s: "He was not an ill disposed young man."
PROMPT = DATA_SAMPLES / "slt_arctic_a0009.wav"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = REPO / "_build" / "demo_check"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    "The demo over the tiny random pipeline, served from a thread; yields its URL."
    from hierspeech_nb.demo import build_demo, launch_demo
    from hierspeech_nb.inference import HierSpeechPipeline
    demo = build_demo(HierSpeechPipeline.random(seed=0))
    _, url, _ = launch_demo(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url.rstrip("/")
    demo.close()


def test_endpoints_through_gradio_client(server):
    import soundfile as sf
    from gradio_client import Client, handle_file
    client = Client(server, verbose=False)
    assert {"/tts", "/vc"} <= set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    spoken = client.predict("Hello there.", handle_file(str(PROMPT)), 0.333, 0.333, 1.0, 0.0, 24_000, api_name="/tts")
    info = sf.info(spoken)
    assert info.samplerate == 24_000 and 0.2 < info.duration < 10
    converted = client.predict(handle_file(str(SOURCE)), handle_file(str(PROMPT)), 0.333, 0.0, 48_000,
                               api_name="/vc")
    info, source = sf.info(converted), sf.info(str(SOURCE))
    assert info.samplerate == 48_000
    assert abs(info.frames - source.frames * 48_000 // source.samplerate) <= 48_000 // 50   # within one 20 ms frame


def test_page_in_headless_chromium(server):
    if not CHROMIUM.is_file():
        pytest.skip(f"no system Chromium at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the docs extra)")
    errors, external = [], []
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "demo_tts.png"
    shot.unlink(missing_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: request.url.startswith(("http:", "https:", "ws:", "wss:"))
                    and not request.url.startswith(server) and external.append(request.url))
            page.goto(server)
            page.locator("#tts-text textarea").fill("Hello there.")
            page.locator("#tts-prompt input[type=file]").set_input_files(str(PROMPT))
            page.locator("#tts-prompt audio, #tts-prompt #waveform").first.wait_for(state="attached", timeout=20_000)
            page.locator("#tts-button").click()
            page.wait_for_function("""() => { const a = document.querySelector('#tts-output audio');
                                              return a !== null && !!a.src && a.duration > 0; }""", timeout=40_000)
            duration = page.evaluate("document.querySelector('#tts-output audio').duration")
            page.wait_for_timeout(500)                  # let the player draw its time before the screenshot
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert duration > 0
    assert errors == [], errors
    assert external == [], f"the page requested outside resources: {external}"
    assert shot.is_file() and shot.stat().st_size > 0


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hierspeech_nb.cli", "demo", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args, message", [
    (["--random-weights", "--port", "70000"], "--port must be in 1..65535"),
    ([], "pass either --ckpt-dir"),
])
def test_cli_bad_input_is_one_line(args, message):
    result = run_cli(*args)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_cli_refuses_both_sources(tmp_path):
    assert main(["demo", "--random-weights", "--ckpt-dir", str(tmp_path)]) == EXIT_BAD_INPUT


def test_cli_without_gradio_says_what_to_install(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "gradio", None)   # `import gradio` now raises ImportError
    assert main(["demo", "--random-weights", "--port", str(free_port())]) == EXIT_BAD_INPUT
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert errors == ["the demo needs gradio: pip install -e '.[demo]'"]


def test_import_does_not_load_gradio():
    code = "import hierspeech_nb, hierspeech_nb.demo, sys; print('gradio' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
