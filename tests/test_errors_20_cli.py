"""Exit codes of notebook 20 (`hierspeech-nb`) for bad input, moved out of the lesson: each refusal returns
EXIT_BAD_INPUT (2) before anything slow runs."""
from __future__ import annotations

import pytest

from conftest import DATA_SAMPLES
from hierspeech_nb.cli import EXIT_BAD_INPUT, main

SOURCE = str(DATA_SAMPLES / "lvx_ss01_0880.wav")
PROMPT = str(DATA_SAMPLES / "allison_queue-youarenext.wav")


@pytest.fixture(scope="module")
def filelist(tmp_path_factory):
    "The first two lines of data_samples/filelist.txt, as notebook 20 writes them."
    path = tmp_path_factory.mktemp("lists") / "train.txt"
    path.write_text("\n".join((DATA_SAMPLES / "filelist.txt").read_text().splitlines()[:2]) + "\n")
    return path


def test_ttv_refuses_max_frames(filelist, tmp_path):
    # cropping would cut the transcript's alignment
    assert main(["train", "ttv", "--config", "tiny", "--filelist", str(filelist), "--out", str(tmp_path / "cropped"),
                 "--max-frames", "32"]) == EXIT_BAD_INPUT


def test_speechsr_refuses_max_frames(tmp_path):
    # the crop length lives in the config
    assert main(["train", "speechsr48k", "--config", "tiny", "--filelist", str(DATA_SAMPLES / "filelist_48k.txt"),
                 "--out", str(tmp_path / "sr_cropped"), "--max-frames", "32"]) == EXIT_BAD_INPUT


def test_missing_config(tmp_path):
    assert main(["train", "synthesizer", "--config", "missing.json", "--filelist",
                 str(DATA_SAMPLES / "filelist.txt"), "--out", str(tmp_path)]) == EXIT_BAD_INPUT


def test_untrainable_model_is_a_usage_error():
    with pytest.raises(SystemExit) as stop:   # argparse refuses it with SystemExit(2)
        main(["train", "denoiser", "--config", "tiny", "--filelist", "x", "--out", "y"])
    assert stop.value.code == EXIT_BAD_INPUT


def test_tts_refuses_empty_text_and_a_non_wav_output(tmp_path):
    assert main(["tts", "--text", " ", "--prompt", PROMPT, "--out", str(tmp_path / "o.wav"),
                 "--random-weights"]) == EXIT_BAD_INPUT
    assert main(["tts", "--text", "Hi.", "--prompt", PROMPT, "--out", str(tmp_path / "o.mp3"),
                 "--random-weights"]) == EXIT_BAD_INPUT


def test_vc_refuses_a_missing_mms_before_loading_checkpoints(tmp_path):
    assert main(["vc", "--source", SOURCE, "--prompt", PROMPT, "--out", str(tmp_path / "o.wav"), "--ckpt-dir",
                 str(tmp_path), "--mms", str(tmp_path / "no-mms-here")]) == EXIT_BAD_INPUT
