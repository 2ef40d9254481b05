"""Error messages of notebook 00 (config): a bad file or a wrong model name says what is wrong and where.

Moved out of the notebook, which keeps the two `validate` checks (the couplings are its lesson)."""
from __future__ import annotations

import pytest

from hierspeech_nb.config import DataConfig, load_config, released_config


def test_from_dict_names_the_source():
    with pytest.raises(ValueError, match="x.json"):
        DataConfig.from_dict([1, 2], source="x.json")


def test_load_config_errors():
    with pytest.raises(ValueError, match="unknown model name"):
        load_config("vocoder")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config("synthesizer", "missing/config.json")
    with pytest.raises(ValueError, match="SynthesizerConfig"):
        load_config("synthesizer", released_config("ttv"))
