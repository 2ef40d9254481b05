"""`text_to_speech` end to end with tiny random models and a real prompt from data_samples/: the output length
follows `length_scale`, a seed makes it deterministic and another seed changes it, long text is split into
sentences with pauses, and empty or unspeakable text is refused with a message that names it."""
from __future__ import annotations

import pytest
import torch

from conftest import REPO
from hierspeech_nb.audio import HOP_LENGTH, SAMPLE_RATE, load_audio
from hierspeech_nb.models import create_model
from hierspeech_nb.ttv_training import SENTENCE_PAUSE_SECONDS, sentence_ids, split_sentences, text_to_speech

SENTENCE = "He was not an ill disposed young man."


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return create_model("ttv", "tiny"), create_model("synthesizer", "tiny")


@pytest.fixture(scope="module")
def prompt():
    lines = [line.split("|") for line in (REPO / "data_samples" / "filelist.txt").read_text().splitlines()]
    return REPO / next(path for path, _, speaker in lines if speaker == "allison")


def test_output_is_whole_frames_at_16k(models, prompt):
    ttv, synthesizer = models
    speech = text_to_speech(SENTENCE, prompt, ttv, synthesizer, seed=0, progress=False)
    assert speech.dim() == 2 and speech.shape[0] == 1 and speech.dtype == torch.float32
    assert speech.shape[-1] % HOP_LENGTH == 0 and speech.shape[-1] > 0
    assert torch.isfinite(speech).all()


def test_length_follows_length_scale(models, prompt):
    ttv, synthesizer = models
    num_tokens = len(sentence_ids(SENTENCE))
    normal = text_to_speech(SENTENCE, prompt, ttv, synthesizer, seed=3, progress=False).shape[-1] // HOP_LENGTH
    slow = text_to_speech(SENTENCE, prompt, ttv, synthesizer, seed=3, length_scale=2.0,
                          progress=False).shape[-1] // HOP_LENGTH
    # same seed, same sampled log-durations: sum ceil(2w) lies in [2 sum ceil(w) - N, 2 sum ceil(w)]
    assert 2 * normal - num_tokens <= slow <= 2 * normal
    fast = text_to_speech(SENTENCE, prompt, ttv, synthesizer, seed=3, length_scale=0.5,
                          progress=False).shape[-1] // HOP_LENGTH
    assert fast < normal < slow


def test_seed_gives_determinism(models, prompt):
    ttv, synthesizer = models
    first = text_to_speech(SENTENCE, prompt, ttv, synthesizer, seed=1, progress=False)
    again = text_to_speech(SENTENCE, prompt, ttv, synthesizer, seed=1, progress=False)
    torch.testing.assert_close(again, first, rtol=0, atol=0)
    other = text_to_speech(SENTENCE, prompt, ttv, synthesizer, seed=2, progress=False)
    assert other.shape != first.shape or (other - first).abs().max() > 1e-4


def test_modes_are_restored(models, prompt):
    ttv, synthesizer = models
    ttv.train()
    synthesizer.eval()
    text_to_speech("Hello.", prompt, ttv, synthesizer, seed=0, progress=False)
    assert ttv.training and not synthesizer.training


def test_sentences_are_joined_with_pauses(models, prompt):
    ttv, synthesizer = models
    assert split_sentences("One. Two!  Three?\nFour") == ["One.", "Two!", "Three?", "Four"]
    both = text_to_speech("Hello there. Good bye!", prompt, ttv, synthesizer, seed=0, progress=False)
    pause = int(SENTENCE_PAUSE_SECONDS * SAMPLE_RATE)
    assert (both.shape[-1] - pause) % HOP_LENGTH == 0
    with pytest.warns(UserWarning, match="skipped 1 sentence"):
        text_to_speech("Hello there. ?!", prompt, ttv, synthesizer, seed=0, progress=False)


@pytest.mark.parametrize("text, sentences", [
    ("Mr. Smith met Dr. Jones at 3 p.m. today.", ["Mr. Smith met Dr. Jones at 3 p.m. today."]),
    ("Mr. Smith met Dr. Jones at 3 p.m. Then they left.", ["Mr. Smith met Dr. Jones at 3 p.m.", "Then they left."]),
    ("It costs 3.50 dollars.", ["It costs 3.50 dollars."]),
    ("Wait... what?", ["Wait... what?"]),
    ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
    ("Hello there. How are you? I am fine!", ["Hello there.", "How are you?", "I am fine!"]),
    ("One, two\nthree, four", ["One, two", "three, four"]),          # a line break always ends a sentence
    ("  \n\nSo. \n  ", ["So."]),                                      # empty pieces are dropped
])
def test_split_sentences_knows_abbreviations(text, sentences):
    assert split_sentences(text) == sentences


def test_split_sentences_loses_no_text():
    text = "Hello there. ?! And e.g. this; that...\nNext line"
    assert "".join(split_sentences(text)).replace(" ", "") == text.replace(" ", "").replace("\n", "")


def test_tensor_prompt_is_replicated(models, prompt):
    ttv, synthesizer = models
    short = load_audio(prompt)[:, :SAMPLE_RATE]                  # 1 s: replicated to 3 s inside
    speech = text_to_speech("Hello.", short[0], ttv, synthesizer, seed=0, progress=False)
    assert speech.shape[-1] % HOP_LENGTH == 0


@pytest.mark.parametrize("text", ["", "   \n "])
def test_empty_text_is_refused(models, prompt, text):
    ttv, synthesizer = models
    with pytest.raises(ValueError, match="is empty; pass at least one English word") as error:
        text_to_speech(text, prompt, ttv, synthesizer, progress=False)
    assert repr(text) in str(error.value)


@pytest.mark.parametrize("text", ["?! ...", "()"])
def test_unspeakable_text_is_refused(models, prompt, text):
    ttv, synthesizer = models
    with pytest.raises(ValueError, match="has no speakable symbol") as error:
        text_to_speech(text, prompt, ttv, synthesizer, progress=False)
    assert repr(text) in str(error.value) and "pass English words" in str(error.value)


def test_denoise_ratio_needs_a_denoiser(models, prompt):
    ttv, synthesizer = models
    with pytest.raises(ValueError, match="needs a `denoiser`"):
        text_to_speech(SENTENCE, prompt, ttv, synthesizer, denoise_ratio=0.5, progress=False)


def test_denoise_ratio_uses_the_denoiser(models, prompt):
    ttv, synthesizer = models
    calls = []

    def denoiser(wav):
        calls.append(wav.shape)
        return wav * 0.5

    speech = text_to_speech("Hello.", prompt, ttv, synthesizer, denoise_ratio=0.8, denoiser=denoiser, seed=0,
                            progress=False)
    assert len(calls) == 1 and calls[0][-1] % 1600 == 0
    assert torch.isfinite(speech).all()
