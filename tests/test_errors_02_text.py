"""Error messages of notebook 02 (text): empty or unspeakable text is refused with a message that says why.

Moved out of the notebook, which keeps one (text with no speakable symbol left after dropping unknown ones)."""
from __future__ import annotations

import warnings

import pytest

from hierspeech_nb.text import cleaned_text_to_ids, normalize_text, phonemize, text_to_ids


@pytest.mark.parametrize("text, message", [
    ("   \n", "empty"),
    (None, "must be a str"),
    ("\U0001F600", "nothing left after transliteration"),
])
def test_normalize_text_errors(text, message):
    with pytest.raises(ValueError, match=message):
        normalize_text(text)


def test_phonemize_refuses_empty_text():
    with pytest.raises(ValueError, match="empty"):
        phonemize("")


def test_cleaned_text_to_ids_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the dropped brackets are named in a warning first
        with pytest.raises(ValueError, match="no speakable symbol"):
            cleaned_text_to_ids("(( ))")
    with pytest.raises(ValueError, match="no speakable symbol"):
        cleaned_text_to_ids("")


def test_text_to_ids_refuses_empty_text():
    with pytest.raises(ValueError, match="empty"):
        text_to_ids(" \t ")
