"""Bad-input messages of notebook 12 (filelists, preprocessing): each error names the input, the problem and the fix.
Moved out of the notebook, which keeps the two whose design is its lesson (the line number of a malformed
filelist line, and the refusal to mix F0 settings in one cache)."""
from __future__ import annotations

from pathlib import Path

import pytest

from hierspeech_nb.data import Utterance, preprocess, read_filelist
from hierspeech_nb.semantic import tiny_mms


@pytest.mark.parametrize("content, message", [
    ("# a comment\n\ndata_samples/a.wav|hello|spk\ndata_samples/b.wav|no speaker field\n", "bad.txt:4: expected 3 fields"),
    ("data_samples/a.wav|hello|\n", "bad.txt:1: the speaker field is empty"),
    ("# only a comment\n", "no utterance lines"),
])
def test_malformed_filelists(tmp_path, content, message):
    bad_list = tmp_path / "lists" / "bad.txt"
    bad_list.parent.mkdir()
    bad_list.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_filelist(bad_list)


def test_missing_filelist(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_filelist(tmp_path / "missing.txt")


@pytest.fixture(scope="module")
def mms():
    return tiny_mms()


def test_preprocess_bad_arguments(tmp_path, mms):
    utterance = [Utterance(Path("/nowhere/a.wav"), "hello", "spk")]
    with pytest.raises(ValueError, match="unknown f0_method"):
        preprocess(utterance, tmp_path, mms, f0_method="crepe")
    with pytest.raises(ValueError, match="list of Utterance"):
        preprocess(["a.wav"], tmp_path, mms)
    with pytest.raises(ValueError, match="MMSFeatureExtractor"):
        preprocess(utterance, tmp_path, mms.feature_extractor)
