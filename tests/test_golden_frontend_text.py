"""Golden equivalence of the text front-end (nbs/02_text.ipynb) with the official HierSpeech++ TTV code.

The fixture `frontend_text.pt` holds, for each sentence, the output of every stage of the official
`ttv_v1.text` pipeline (see shared/reference/golden/README.md, "Front-end" and "Text quirks"). Everything is
compared exactly: strings, ids and the symbol table."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from hierspeech_nb import text


@pytest.fixture(scope="module")
def golden(golden_dir):
    return torch.load(golden_dir / "frontend_text.pt", weights_only=True)


@pytest.fixture(scope="module")
def sentences(golden):
    assert golden["sentences"], "frontend_text.pt holds no sentences"
    return golden["sentences"]


def test_fixture_is_the_released_cleaner(golden):
    assert golden["cleaner"] == "english_cleaners2"


def test_espeak_version_matches_fixture(golden):
    assert text.espeak_version() == golden["espeak_ng_version"]


def test_symbol_table_matches_fixture(golden):
    assert len(text.SYMBOLS) == len(golden["symbols"]) == text.NUM_SYMBOLS
    assert list(text.SYMBOLS) == list(golden["symbols"])
    # the official dict comprehension keeps the last index of a repeated symbol
    expected_lookup = {symbol: index for index, symbol in enumerate(golden["symbols"])}
    assert text.symbol_to_id == expected_lookup
    repeated = {symbol for symbol in golden["symbols"] if golden["symbols"].count(symbol) > 1}
    for symbol in repeated:   # README: "'" is listed twice; the later index wins
        assert text.symbol_to_id[symbol] == len(golden["symbols"]) - 1 - golden["symbols"][::-1].index(symbol)
        assert text.symbol_to_id[symbol] != golden["symbols"].index(symbol)


def test_normalized_text_matches_fixture(golden, sentences):
    for sentence, expected in zip(sentences, golden["ascii_lower_expanded"], strict=True):
        assert text.normalize_text(sentence) == expected, sentence


def test_ipa_matches_fixture(golden, sentences):
    for sentence, expected in zip(sentences, golden["ipa"], strict=True):
        assert text.english_cleaners2(sentence) == expected, sentence
        assert text.phonemize(text.normalize_text(sentence)) == expected, sentence


def test_ids_match_fixture(golden, sentences):
    for sentence, expected in zip(sentences, golden["ids"], strict=True):
        expected = torch.as_tensor(expected, dtype=torch.long)
        assert text.cleaned_text_to_ids(text.english_cleaners2(sentence)) == expected.tolist(), sentence
        ids = text.text_to_ids(sentence, add_blank=False)
        assert ids.dtype == torch.long
        assert torch.equal(ids, expected), sentence


def test_ids_with_blanks_match_fixture(golden, sentences):
    for sentence, ids, expected in zip(sentences, golden["ids"], golden["ids_blank"], strict=True):
        expected = torch.as_tensor(expected, dtype=torch.long)
        assert len(expected) == 2 * len(ids) + 1
        assert text.intersperse(torch.as_tensor(ids).tolist()) == expected.tolist(), sentence
        blanked = text.text_to_ids(sentence)
        assert blanked.dtype == torch.long
        assert torch.equal(blanked, expected), sentence


def test_import_does_no_work():
    # importing the module must not load phonemizer or the espeak library (the official code does both)
    code = ("import sys, hierspeech_nb.text as t; "
            "assert 'phonemizer' not in sys.modules, 'phonemizer imported at import time'; "
            "assert t._espeak_backend.cache_info().currsize == 0")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_backend_uses_espeakng_loader():
    import espeakng_loader
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    text.english_cleaners2("hello")
    assert str(EspeakWrapper().library_path) == espeakng_loader.get_library_path()
    assert text._espeak_backend() is text._espeak_backend()


@pytest.mark.parametrize("bad", ["", "   ", "\n\t "])
def test_empty_text_is_refused(bad):
    with pytest.raises(ValueError, match="empty"):
        text.text_to_ids(bad)


def test_non_string_is_refused():
    with pytest.raises(ValueError, match="must be a str"):
        text.text_to_ids(["hello"])


def test_text_without_speakable_symbol_is_refused():
    # brackets are kept by phonemizer as punctuation, but they are not in the symbol table
    with pytest.warns(UserWarning, match="not in the 178-symbol table"):
        with pytest.raises(ValueError, match="no speakable symbol"):
            text.text_to_ids("( ) [ ]")
    with pytest.raises(ValueError, match="nothing left after transliteration"):
        text.text_to_ids("\U0001F600")


def test_unknown_characters_are_dropped_and_listed():
    with pytest.warns(UserWarning, match=r"'\(' \(U\+0028\), '\)' \(U\+0029\)"):
        ids = text.text_to_ids("say (hello)", add_blank=False)
    assert torch.equal(ids, text.text_to_ids("say hello", add_blank=False))
    with pytest.warns(UserWarning, match=r"U\+0303"):  # espeak's nasal tilde in a French loanword
        text.text_to_ids("croissant")
