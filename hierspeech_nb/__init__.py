"""hierspeech-nb: a notebook-first, literate reference implementation of HierSpeech++.

The public API is small and re-exported here by hand (nbdev only updates `__version__`); everything else is
reached by module path, e.g. `hierspeech_nb.audio.linear_spectrogram`."""
__version__ = "0.1.0"

from .config import (DataConfig, DenoiserConfig, SpeechSRConfig, SynthesizerConfig, TrainConfig, TTVConfig,
                     load_config, released_config, tiny_config)
from .audio import load_audio, mel_spectrogram, resample
from .text import english_cleaners2, text_to_ids
from .semantic import extract_semantic_features, load_mms
from .pitch import get_f0, normalize_f0
from .models import create_model, load_checkpoint
from .synthesizer import SynthesizerTrn, voice_conversion
from .discriminators import HierSpeechDiscriminator
from .losses import synthesizer_losses
from .data import LengthBucketSampler, SpeechDataset, collate, make_dataloader, preprocess, read_filelist
from .mas import maximum_path
from .training import NonFiniteLossError, SynthesizerTask, Trainer, TrainerOptions
from .ttv import TextToVec, TTVTask, text_to_speech
from .speechsr import HighRateClips, SpeechSR, SpeechSRTask, super_resolve
from .denoiser import as_prompt_denoiser, denoise
from .inference import HierSpeechPipeline, save_wav
from .evaluation import evaluate_batch, evaluate_pair, metrics_table
from .accel import optimize_for_inference
