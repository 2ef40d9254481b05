"""hierspeech-nb: a notebook-first, literate reference implementation of HierSpeech++.

The public API is small and re-exported here by hand (nbdev only updates `__version__`); everything else is
reached by module path, e.g. `hierspeech_nb.audio.linear_spectrogram`.

`import hierspeech_nb` is light: each public name imports its submodule (torch, transformers, ...) on first
use (PEP 562). To add a name, add one entry to `_LAZY` below: public name -> submodule that defines it."""
from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_LAZY: dict[str, str] = {   # public name -> submodule (relative to this package) that defines it
    **dict.fromkeys(["DataConfig", "DenoiserConfig", "SpeechSRConfig", "SynthesizerConfig", "TrainConfig",
                     "TTVConfig", "load_config", "released_config", "tiny_config"], "config"),
    **dict.fromkeys(["load_audio", "mel_spectrogram", "resample"], "audio"),
    **dict.fromkeys(["english_cleaners2", "text_to_ids"], "text"),
    **dict.fromkeys(["extract_semantic_features", "load_mms"], "semantic"),
    **dict.fromkeys(["get_f0", "normalize_f0"], "pitch"),
    **dict.fromkeys(["create_model", "download_checkpoints", "load_checkpoint"], "models"),
    **dict.fromkeys(["SynthesizerTrn", "voice_conversion"], "synthesizer"),
    **dict.fromkeys(["HierSpeechDiscriminator"], "discriminators"),
    **dict.fromkeys(["synthesizer_losses"], "losses"),
    **dict.fromkeys(["preprocess", "read_filelist"], "data"),
    **dict.fromkeys(["LengthBucketSampler", "SpeechDataset", "collate", "make_dataloader"], "batches"),
    **dict.fromkeys(["maximum_path"], "mas"),
    **dict.fromkeys(["NonFiniteLossError", "Trainer", "TrainerOptions"], "training"),
    **dict.fromkeys(["SynthesizerTask"], "synthesizer_training"),
    **dict.fromkeys(["TextToVec"], "ttv"),
    **dict.fromkeys(["TTVTask", "text_to_speech", "text_to_speech_stream"], "ttv_training"),
    **dict.fromkeys(["SpeechSR", "released_speechsr", "super_resolve"], "speechsr"),
    **dict.fromkeys(["HighRateClips", "SpeechSRTask"], "speechsr_training"),
    **dict.fromkeys(["as_prompt_denoiser", "denoise"], "denoiser"),
    **dict.fromkeys(["HierSpeechPipeline", "VoicePrompt", "save_wav"], "inference"),
    **dict.fromkeys(["evaluate_batch", "evaluate_pair", "metrics_table"], "evaluation_models"),
    **dict.fromkeys(["optimize_for_inference"], "accel"),
    **dict.fromkeys(["cast_for_inference"], "precision"),
}

__all__ = list(_LAZY)


def _submodules() -> set[str]:
    "Names of this package's modules (`audio`, `training`, ...), found without importing them."
    return {info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}


def __getattr__(name: str):
    "Import the submodule that defines `name` on first access (or the submodule `name` itself), then cache it."
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _submodules():   # `hierspeech_nb.audio.resample` after a bare `import hierspeech_nb`
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value   # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _submodules())


if TYPE_CHECKING:   # static analysers and IDEs see the eager imports; at run time nothing below is imported
    from .audio import load_audio, mel_spectrogram, resample
    from .config import (DataConfig, DenoiserConfig, SpeechSRConfig, SynthesizerConfig, TrainConfig, TTVConfig,
                         load_config, released_config, tiny_config)
    from .batches import LengthBucketSampler, SpeechDataset, collate, make_dataloader
    from .data import preprocess, read_filelist
    from .denoiser import as_prompt_denoiser, denoise
    from .discriminators import HierSpeechDiscriminator
    from .evaluation_models import evaluate_batch, evaluate_pair, metrics_table
    from .inference import HierSpeechPipeline, VoicePrompt, save_wav
    from .losses import synthesizer_losses
    from .mas import maximum_path
    from .models import create_model, download_checkpoints, load_checkpoint
    from .pitch import get_f0, normalize_f0
    from .semantic import extract_semantic_features, load_mms
    from .speechsr import SpeechSR, released_speechsr, super_resolve
    from .speechsr_training import HighRateClips, SpeechSRTask
    from .synthesizer import SynthesizerTrn, voice_conversion
    from .text import english_cleaners2, text_to_ids
    from .synthesizer_training import SynthesizerTask
    from .training import NonFiniteLossError, Trainer, TrainerOptions
    from .ttv import TextToVec
    from .ttv_training import TTVTask, text_to_speech, text_to_speech_stream
    from .accel import optimize_for_inference
    from .precision import cast_for_inference
