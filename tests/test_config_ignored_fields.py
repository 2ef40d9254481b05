"""Config fields that nothing reads (nbs/00_config.ipynb, "Fields nothing reads"): setting one to a value other than
its default or released one warns once per loaded config, naming the field, the value and why; the released and
golden configs load without any warning."""
from __future__ import annotations

import json
import warnings

import pytest

from hierspeech_nb.config import (DataConfig, SpeechSRModelConfig, SynthesizerModelConfig, TrainConfig,
                                  TTVModelConfig, load_config, released_config)

# (model name, block in its config.json, the block's class)
BLOCKS = [("synthesizer", "train", TrainConfig), ("synthesizer", "data", DataConfig),
          ("synthesizer", "model", SynthesizerModelConfig), ("ttv", "model", TTVModelConfig),
          ("speechsr24k", "model", SpeechSRModelConfig)]
CASES = [(name, block, field) for name, block, cls in BLOCKS for field in cls.IGNORED]


def _other_value(accepted: tuple):
    "A value of the same kind as the accepted ones that is none of them."
    example = next(value for value in accepted if value is not None)
    if isinstance(example, bool):
        candidates = [True, False]
    elif isinstance(example, (int, float)):
        candidates = [example + 5, 0.5]
    elif isinstance(example, str):
        candidates = [example + "x"]
    else:
        candidates = [[5], ["basic_cleaners"]]
    return next(value for value in candidates if value not in accepted)


def _loads(function):
    "Call `function` and return the messages of the UserWarnings it raised."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        function()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_every_named_field_is_covered():
    assert {"n_heads", "n_layers", "wav2vec_feature_layer"} <= set(SynthesizerModelConfig.IGNORED)
    assert {"fp16_run", "aug", "c_mixup"} <= set(TrainConfig.IGNORED)
    assert {"n_heads", "n_layers", "filter_channels"} <= set(TTVModelConfig.IGNORED)


@pytest.mark.parametrize("name, block, field", CASES)
def test_ignored_value_warns_once_per_load(tmp_path, name, block, field):
    values = released_config(name).to_dict()
    value = _other_value(getattr(type(getattr(released_config(name), block)), "IGNORED")[field][1])
    values[block][field] = value
    path = tmp_path / "config.json"
    path.write_text(json.dumps(values))
    config = None

    def load():
        nonlocal config
        config = load_config(name, path)

    messages = _loads(load)
    assert len(messages) == 1, messages
    assert f"{block}.{field}={value!r} is ignored" in messages[0] and str(path) in messages[0]
    assert _loads(lambda: load_config(name, config)) == []          # the same object again: no second warning
    assert len(_loads(load)) == 1                                    # a new load warns again
    setattr(getattr(config, block), field, getattr(getattr(released_config(name), block), field))
    assert _loads(lambda: load_config(name, config)) == []          # back to the released value: nothing to say


def test_object_built_in_code_warns(tmp_path):
    config = released_config("synthesizer")
    config.model.wav2vec_feature_layer = 12
    messages = _loads(lambda: load_config("synthesizer", config))
    assert len(messages) == 1 and "model.wav2vec_feature_layer=12 is ignored" in messages[0]
    assert "load_mms(num_layers" in messages[0]


def test_released_configs_load_without_warning(tmp_path, shared_reference):
    released = json.loads((shared_reference / "released_configs.json").read_text())
    names = [name for name in released if not name.startswith("_")]
    assert names
    for name in names:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({k: v for k, v in released[name].items() if k != "source"}))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            config = load_config(name, path)
            load_config(name, None), load_config(name, "tiny")
        assert config == released_config(name), name


@pytest.mark.parametrize("name, relative", [("synthesizer", "golden/synth_tiny_config.json"),
                                            ("ttv", "golden/ttv_tiny_config.json"),
                                            ("denoiser", "golden/denoiser_tiny_config.json"),
                                            ("speechsr24k", "checkpoints/speechsr24k/config.json"),
                                            ("speechsr48k", "checkpoints/speechsr48k/config.json")])
def test_official_files_load_without_warning(shared_reference, name, relative):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_config(name, shared_reference / relative)
