"""`hierspeech-nb tts` and `hierspeech-nb vc` with tiny random weights (`--random-weights`): the written wav has the
asked rate, a plausible length and finite samples; bad input gets one line naming the problem and exit code 2.
A checkpoint folder without SpeechSR falls back to the released SpeechSR files that ship with the package."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import REPO
from hierspeech_nb.cli import EXIT_BAD_INPUT, main

LINES = [line.split("|") for line in (REPO / "data_samples" / "filelist.txt").read_text().splitlines()]
PROMPT = REPO / next(path for path, _, speaker in LINES if speaker == "allison")
SOURCE = REPO / next(path for path, _, speaker in LINES if speaker == "lvx_ss01")


def _command() -> list[str]:
    "The installed console script, or the module when the script is not on PATH."
    script = shutil.which("hierspeech-nb") or str(REPO / ".venv" / "bin" / "hierspeech-nb")
    return [script] if shutil.which(script) else [sys.executable, "-m", "hierspeech_nb.cli"]


def _run(*args: str) -> subprocess.CompletedProcess:
    # offline, as a user without network: nothing may try to reach the Hugging Face hub
    return subprocess.run([*_command(), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def _the_error_line(done: subprocess.CompletedProcess) -> str:
    "Exit code 2, no traceback, every line a log line, exactly one of them an error: that line."
    assert done.returncode == EXIT_BAD_INPUT, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("hierspeech-nb ") for line in lines), done.stderr[-3000:]
    errors = [line for line in lines if line.startswith("hierspeech-nb ERROR: ")]
    assert len(errors) == 1, done.stderr[-3000:]
    return errors[0]


def test_tts_writes_a_48k_wav(tmp_path):
    out = tmp_path / "hello.wav"
    done = _run("tts", "--text", "Hello world. How are you?", "--prompt", str(PROMPT), "--out", str(out),
                "--random-weights", "--sr", "48000", "--seed", "0", "--no-progress", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 48_000 and audio.ndim == 1
    assert 0.3 * 48_000 < len(audio) < 30 * 48_000        # two short sentences
    assert abs(audio).max() > 0.9                          # peak-normalised to 0.999 ("max")


def test_vc_keeps_the_source_length(tmp_path):
    out = tmp_path / "converted.wav"
    done = _run("vc", "--source", str(SOURCE), "--prompt", str(PROMPT), "--out", str(out), "--random-weights",
                "--seed", "0", "--no-progress", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    audio, rate = sf.read(out, dtype="float32")
    source, source_rate = sf.read(SOURCE, dtype="float32")
    assert rate == 16_000 and len(audio) == round(len(source) * 16_000 / source_rate)


def test_vc_in_bfloat16_writes_the_same_length(tmp_path):
    "--dtype bf16 (appendix A5): half-precision models, a float32 wav of the same length as in float32."
    lengths = {}
    for dtype in ("fp32", "bf16"):
        out = tmp_path / f"{dtype}.wav"
        done = _run("vc", "--source", str(SOURCE), "--prompt", str(PROMPT), "--out", str(out), "--random-weights",
                    "--seed", "0", "--no-progress", "--device", "cpu", "--dtype", dtype, "--scale-norm", "none")
        assert done.returncode == 0, done.stderr
        audio, _ = sf.read(out, dtype="float32")
        assert np.isfinite(audio).all()
        lengths[dtype] = audio
    assert len(lengths["bf16"]) == len(lengths["fp32"])
    assert np.abs(lengths["bf16"] - lengths["fp32"]).max() < 0.05 * np.abs(lengths["fp32"]).max()


def test_an_unknown_dtype_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["tts", "--text", "hi", "--prompt", str(PROMPT), "--out", "o.wav", "--random-weights", "--dtype", "int8"])
    assert stop.value.code == EXIT_BAD_INPUT
    assert "argument --dtype: invalid choice: 'int8'" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["tts", "--text", "hi", "--prompt", "missing.wav", "--out", "o.wav", "--random-weights"], "--prompt missing.wav: no such file"),
    (["tts", "--text", "hi", "--prompt", str(PROMPT), "--out", "o.mp3", "--random-weights"], "must end in .wav"),
    (["tts", "--text", "hi", "--prompt", str(PROMPT), "--out", "no/such/folder/o.wav", "--random-weights"],
     "the folder no/such/folder does not exist"),
    (["tts", "--text", "   ", "--prompt", str(PROMPT), "--out", "o.wav", "--random-weights"], "the text is empty"),
    (["vc", "--source", str(REPO / "README.md"), "--prompt", str(PROMPT), "--out", "o.wav", "--random-weights"],
     "unsupported extension '.md'"),
    (["vc", "--source", str(SOURCE), "--prompt", str(PROMPT), "--out", "o.wav"], "either --ckpt-dir"),
])
def test_bad_input(args, message, caplog, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == EXIT_BAD_INPUT
    assert message in caplog.text, caplog.text


def test_missing_checkpoint_names_each_file(caplog, tmp_path):
    "Every missing file is named, except SpeechSR's: the package ships it, so `--sr 48000` needs no G_100000.pth."
    args = ["tts", "--text", "hi", "--prompt", str(PROMPT), "--out", str(tmp_path / "o.wav"), "--ckpt-dir",
            str(tmp_path), "--sr", "48000"]
    assert main(args) == EXIT_BAD_INPUT
    (error,) = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    for name in ("hierspeechpp_v1.1_ckpt.pth (synthesizer)", "ttv_lt960_ckpt.pth (ttv)"):
        assert name in error, error
    assert "G_100000.pth" not in error and "speechsr" not in error, error


def _pipeline_from_folder(folder, monkeypatch, output_rates):
    """from_checkpoints on `folder`, with tiny stand-ins for the synthesizer and TTV (their released files are
    large and not here); returns the pipeline and the file each model was loaded from."""
    import hierspeech_nb.inference as inference
    from hierspeech_nb.models import create_model, load_checkpoint
    for name in ("synthesizer", "ttv"):
        (folder / inference.RELEASED_CHECKPOINTS[name]).touch()
    loaded = {}

    def load(name, path, **kwargs):
        loaded[name] = Path(path)
        return load_checkpoint(name, path, **kwargs) if name.startswith("speechsr") else create_model(name, "tiny")

    monkeypatch.setattr(inference, "load_checkpoint", load)
    return inference.HierSpeechPipeline.from_checkpoints(folder, tasks=("tts",), output_rates=output_rates,
                                                         optimize=False), loaded


def test_pipeline_uses_the_bundled_speechsr(caplog, tmp_path, monkeypatch):
    "A checkpoint folder without SpeechSR: the pipeline loads the copies in the package and says so in the log."
    from hierspeech_nb.speechsr import RELEASED_SPEECHSR_DIR, released_speechsr
    with caplog.at_level(logging.INFO, logger="hierspeech_nb.inference"):
        pipeline, loaded = _pipeline_from_folder(tmp_path, monkeypatch, (16_000, 24_000, 48_000))
    assert loaded["speechsr24k"] == RELEASED_SPEECHSR_DIR / "speechsr24k" / "G_340000.pth"
    assert loaded["speechsr48k"] == RELEASED_SPEECHSR_DIR / "speechsr48k" / "G_100000.pth"
    assert loaded["synthesizer"].parent == tmp_path
    notes = [record.getMessage() for record in caplog.records if "ships with the package" in record.getMessage()]
    assert len(notes) == 2 and all("G_" in note and str(tmp_path) in note for note in notes), caplog.text
    x = torch.randn(1, 1, 800, generator=torch.Generator().manual_seed(0)) * 0.1
    with torch.inference_mode():
        for rate in (24_000, 48_000):
            assert torch.equal(pipeline.speechsr[rate](x), released_speechsr(rate, optimize=False)(x)), rate


def test_pipeline_prefers_speechsr_in_the_folder(caplog, tmp_path, monkeypatch):
    "A G_100000.pth in the checkpoint folder wins over the bundled copy, and nothing is said about the package."
    from hierspeech_nb.speechsr import released_speechsr_path
    (tmp_path / "speechsr48k").mkdir()
    own = tmp_path / "speechsr48k" / "G_100000.pth"
    shutil.copy(released_speechsr_path(48_000), own)
    with caplog.at_level(logging.INFO, logger="hierspeech_nb.inference"):
        pipeline, loaded = _pipeline_from_folder(tmp_path, monkeypatch, (48_000,))
    assert loaded["speechsr48k"] == own and set(pipeline.speechsr) == {48_000}
    assert "ships with the package" not in caplog.text


def test_bad_input_exit_code_from_the_shell(tmp_path):
    done = _run("vc", "--source", str(tmp_path / "nope.wav"), "--prompt", str(PROMPT), "--out", "o.wav",
                "--random-weights")
    assert done.returncode == EXIT_BAD_INPUT and "no such file" in done.stderr


def test_vc_refuses_a_prompt_file_with_nan_or_inf(tmp_path):
    samples = sf.read(PROMPT, dtype="float32")[0]
    samples[[10, 20]] = np.nan
    samples[30] = np.inf
    bad = tmp_path / "nan_prompt.wav"
    sf.write(bad, samples, 16_000, subtype="FLOAT")
    out = tmp_path / "o.wav"
    done = _run("vc", "--source", str(SOURCE), "--prompt", str(bad), "--out", str(out), "--random-weights",
                "--seed", "0", "--no-progress", "--device", "cpu")
    line = _the_error_line(done)
    assert str(bad) in line and " 3 NaN/Inf samples" in line and "re-export" in line
    assert not out.exists()


@pytest.mark.parametrize("mms", ["hierspeech-nb-tests/not-in-the-cache", "missing-folder"])
def test_vc_with_mms_not_available_offline(tmp_path, mms):
    name = str(tmp_path / mms) if mms == "missing-folder" else mms
    done = _run("vc", "--source", str(SOURCE), "--prompt", str(PROMPT), "--out", str(tmp_path / "o.wav"),
                "--ckpt-dir", str(tmp_path), "--mms", name, "--device", "cpu")
    line = _the_error_line(done)
    assert len(done.stderr.strip().splitlines()) == 1          # refused before any model is loaded
    assert f"--mms {name}" in line and "hf download facebook/mms-300m" in line
