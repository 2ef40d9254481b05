"""Front-end benchmark: seconds of compute per second of audio, and peak memory, for each front-end stage.

Run from the repository root:  python bench/frontend.py [--repeats 5] [--threads N] [--skip-full]
Prints a markdown table; asserts nothing about time (DESIGN.md, Benchmarks)."""
from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, median_seconds, peak_memory_mb, table  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _clip_16k() -> Path:
    return REPO / (REPO / "data_samples" / "filelist.txt").read_text().splitlines()[0].split("|")[0]


def _clip_48k() -> Path:
    return REPO / (REPO / "data_samples" / "filelist_48k.txt").read_text().splitlines()[0].split("|")[0]


def _audio(seconds: float) -> torch.Tensor:
    "A real clip repeated/cut to `seconds` of 16 kHz audio, [1, N]."
    from hierspeech_nb.audio import load_audio
    wav = load_audio(_clip_16k())
    n = int(seconds * 16000)
    return wav.repeat(1, n // wav.shape[-1] + 1)[:, :n]


# Each stage is a picklable `setup(seconds) -> run` so it can also run alone in a fresh process for memory.
def stage_load_48k(seconds):
    from hierspeech_nb.audio import load_audio
    return lambda: load_audio(_clip_48k())


def stage_mel(seconds):
    from hierspeech_nb.audio import mel_spectrogram
    wav = _audio(seconds)
    return lambda: mel_spectrogram(wav)


def stage_f0(seconds, method):
    from hierspeech_nb.audio import pad_to_frames
    from hierspeech_nb.pitch import get_f0
    wav = pad_to_frames(_audio(seconds))
    return lambda: get_f0(wav, method=method, progress=False)


def stage_mms(seconds, size, num_layers):
    from hierspeech_nb.semantic import (MMSFeatureExtractor, mms_300m_config, prepare_mms_input, tiny_mms_config,
                                        wav2vec2_hidden_state)
    from transformers import Wav2Vec2ForPreTraining
    torch.manual_seed(0)
    config = mms_300m_config() if size == "full" else tiny_mms_config()
    model = Wav2Vec2ForPreTraining(config).eval()
    wav = _audio(seconds)
    if num_layers == "all":  # the official wrapper: every layer, every hidden state kept, read index 7
        inputs = prepare_mms_input(wav)

        def run():
            with torch.inference_mode():
                return wav2vec2_hidden_state(model, inputs)
        return run
    extractor = MMSFeatureExtractor(model.wav2vec2, num_layers)

    def run():
        with torch.inference_mode():
            return extractor(wav)
    return run


def _load_clip_seconds() -> float:
    import soundfile as sf
    return sf.info(str(_clip_48k())).duration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="audio length per run (s)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per stage (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--skip-full", action="store_true", help="skip the full-size (315 M) random MMS")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from hierspeech_nb.pitch import F0_METHODS

    stages = [("load 48 kHz file + resample to 16 kHz", stage_load_48k, _load_clip_seconds()),
              ("log-mel spectrogram", stage_mel, args.seconds)]
    stages += [(f"F0 {method}" + (" (official)" if method == "yaapt" else ""),
                functools.partial(stage_f0, method=method), args.seconds) for method in F0_METHODS]
    stages += [("MMS tiny, 7 layers", functools.partial(stage_mms, size="tiny", num_layers=7), args.seconds)]
    if not args.skip_full:
        stages += [("MMS full-size (random 315 M), all 24 layers (official)",
                    functools.partial(stage_mms, size="full", num_layers="all"), args.seconds),
                   ("MMS full-size (random 315 M), first 7 layers (ours)",
                    functools.partial(stage_mms, size="full", num_layers=7), args.seconds)]
    rows = []
    for name, setup, seconds in stages:
        run = setup(seconds)
        median = median_seconds(run, repeats=args.repeats)
        resident, peak = peak_memory_mb(functools.partial(setup, seconds))
        rows.append([name, f"{seconds:.2f}", f"{median * 1000:.1f}", f"{median / seconds:.4f}",
                     f"{resident:.0f}", f"{peak:.0f}"])
        print(f"done: {name}", file=sys.stderr)
    print(f"Machine: {machine()}\n")
    print(table(["stage", "audio (s)", "median (ms)", "compute s / audio s", "RSS after setup (MB)",
                 "peak added by one run (MB)"], rows))


if __name__ == "__main__":
    main()
