"""Error messages of notebook 18 (hierspeech_nb.inference) for bad input, moved out of the lesson."""
from __future__ import annotations

import pytest
import torch

from conftest import DATA_SAMPLES
from hierspeech_nb.inference import HierSpeechPipeline, find_checkpoints, normalize_loudness, save_wav

PROMPT = DATA_SAMPLES / "allison_cannot-complete-as-dialed.wav"
SOURCE = DATA_SAMPLES / "lvx_ss01_0880.wav"
RAMP = torch.linspace(-0.5, 0.25, 100)[None]


def test_find_checkpoints_names_a_missing_speechsr_without_bundled_copy(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"G_100000.pth \(speechsr48k\)"):
        find_checkpoints(tmp_path, ["speechsr48k"])


def test_find_checkpoints_needs_an_existing_folder():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_checkpoints("/no/such/folder", ["ttv"])


def test_normalize_loudness_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="not one of"):
        normalize_loudness(RAMP, "loud")


def test_save_wav_needs_a_wav_name():
    with pytest.raises(ValueError, match="must end in .wav"):
        save_wav("out.mp3", RAMP, 16000)


@pytest.fixture(scope="module")
def pipeline() -> HierSpeechPipeline:
    return HierSpeechPipeline.random(seed=0)


def test_unsupported_output_rate(pipeline):
    with pytest.raises(ValueError, match="not supported"):
        pipeline.vc(SOURCE, PROMPT, output_rate=22_050)


def test_tts_needs_a_ttv_model(pipeline):
    with pytest.raises(ValueError, match="no TTV model"):
        HierSpeechPipeline(pipeline.synthesizer).tts("Hello.", PROMPT)
