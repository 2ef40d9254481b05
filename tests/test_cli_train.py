"""`hierspeech-nb train synthesizer` (notebook 20): a few steps of the tiny config from the shell, resume, and
bad input (missing filelist, broken config) with its message and exit code."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import DATA_SAMPLES, REPO
from hierspeech_nb.cli import EXIT_BAD_INPUT, EXIT_OK, main

COMMAND = Path(sys.executable).parent / "hierspeech-nb"   # the console script installed with the package


@pytest.fixture(scope="module")
def filelist(tmp_path_factory) -> Path:
    "Two short clips of data_samples/ (paths relative to the repository root)."
    lines = (DATA_SAMPLES / "filelist.txt").read_text().splitlines()
    path = tmp_path_factory.mktemp("lists") / "train.txt"
    chosen = [line for line in lines if line.split("|")[2] == "allison"][:2]
    path.write_text("\n".join(chosen) + "\n")
    return path


def train(filelist: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    arguments = [str(COMMAND), "train", "synthesizer", "--config", "tiny", "--filelist", str(filelist),
                 "--root", str(REPO), "--out", str(out), "--cache-dir", str(out.parent / "cache"),
                 "--max-frames", "24", "--mms", "tiny", "--save-every", "1", "--keep-last", "2",
                 "--log-every", "1", "--no-progress", "--no-tensorboard", "--device", "cpu", *extra]
    return subprocess.run(arguments, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_train_then_resume(filelist, tmp_path):
    out = tmp_path / "run"
    first = train(filelist, out, "--steps", "2")
    assert first.returncode == EXIT_OK, first.stderr[-3000:]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_00000001.pt", "step_00000002.pt"]
    assert json.loads((out / "config.json").read_text())["train"]["discriminator"]["stft_channels"] == 8   # train.extra keys sit in the block
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2] and all("g/mel" in r for r in records)
    second = train(filelist, out, "--steps", "3", "--resume", str(out))
    assert second.returncode == EXIT_OK, second.stderr[-3000:]
    assert "resumed from" in second.stderr
    state = torch.load(out / "checkpoints" / "step_00000003.pt", weights_only=True)
    assert state["step"] == 3


def test_missing_filelist_is_exit_code_2(tmp_path):
    result = subprocess.run([str(COMMAND), "train", "synthesizer", "--config", "tiny", "--filelist",
                             str(tmp_path / "nope.txt"), "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == EXIT_BAD_INPUT
    assert "--filelist" in result.stderr and "nope.txt: no such file" in result.stderr
    assert not (tmp_path / "run").exists()                       # nothing started


@pytest.mark.parametrize("mms", ["hierspeech-nb-tests/not-in-the-cache", "missing-folder"])
def test_mms_not_available_offline_is_exit_code_2(filelist, tmp_path, mms):
    name = str(tmp_path / mms) if mms == "missing-folder" else mms
    result = subprocess.run([str(COMMAND), "train", "synthesizer", "--config", "tiny", "--filelist", str(filelist),
                             "--root", str(REPO), "--out", str(tmp_path / "run"), "--mms", name, "--device", "cpu",
                             "--no-progress", "--no-tensorboard"],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == EXIT_BAD_INPUT, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hierspeech-nb ERROR: --mms"), result.stderr[-3000:]
    assert name in lines[0] and "hf download facebook/mms-300m" in lines[0]


@pytest.mark.parametrize("content, message", [
    ("{ not json", "not valid JSON"),
    (json.dumps({"model": {"upsample_rates": [4, 5, 4, 2]}}), "multiply to"),
])
def test_bad_config_is_exit_code_2(tmp_path, filelist, caplog, content, message):
    config = tmp_path / "config.json"
    config.write_text(content)
    with caplog.at_level(logging.ERROR):
        code = main(["train", "synthesizer", "--config", str(config), "--filelist", str(filelist),
                     "--out", str(tmp_path / "run")])
    assert code == EXIT_BAD_INPUT
    assert message in caplog.text and str(config) in caplog.text


def test_unknown_model_and_missing_options_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "denoiser", "--config", "tiny", "--filelist", "x", "--out", "y"])
    assert stop.value.code == 2 and "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "synthesizer"])


# --- SpeechSR: trained from audio alone (notebooks 16 and 20) ---
def train_speechsr(filelist: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    arguments = [str(COMMAND), "train", "speechsr48k", "--config", "tiny", "--filelist", str(filelist),
                 "--root", str(REPO), "--out", str(out), "--batch-size", "2", "--save-every", "1", "--log-every", "1",
                 "--no-progress", "--no-tensorboard", "--device", "cpu", *extra]
    return subprocess.run(arguments, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_train_speechsr_then_resume(tmp_path):
    out, filelist = tmp_path / "sr", DATA_SAMPLES / "filelist_48k.txt"
    first = train_speechsr(filelist, out, "--steps", "2", "--eval-filelist", str(filelist), "--eval-every", "1")
    assert first.returncode == EXIT_OK, first.stderr[-3000:]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_00000001.pt", "step_00000002.pt"]
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["sampling_rate"] == 48_000
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert {"g/mel", "g/adversarial", "d/total"} <= set(next(r for r in records if "g/mel" in r))
    assert any("eval/mel_l1" in r for r in records)
    assert not (out / "cache").exists()                      # nothing preprocessed: audio is all SpeechSR reads
    second = train_speechsr(filelist, out, "--steps", "3", "--resume", str(out))
    assert second.returncode == EXIT_OK, second.stderr[-3000:]
    assert torch.load(out / "checkpoints" / "step_00000003.pt", weights_only=True)["step"] == 3


def test_train_speechsr_bad_input(tmp_path, caplog):
    import soundfile as sf
    clip = tmp_path / "blip.wav"                             # 0.1 s: shorter than one 0.2 s training crop
    sf.write(clip, torch.zeros(4800).numpy(), 48_000)
    short = tmp_path / "short.txt"
    short.write_text(f"{clip}|a blip|x\n")
    with caplog.at_level(logging.ERROR):
        code = main(["train", "speechsr48k", "--config", "tiny", "--filelist", str(short), "--out",
                     str(tmp_path / "run"), "--steps", "1", "--no-progress"])
    assert code == EXIT_BAD_INPUT
    assert "fewer than segment=9600" in caplog.text and "blip.wav" in caplog.text
    assert main(["train", "speechsr48k", "--config", "tiny", "--filelist", str(short), "--out", str(tmp_path / "b"),
                 "--max-frames", "24"]) == EXIT_BAD_INPUT   # the crop length lives in the config
