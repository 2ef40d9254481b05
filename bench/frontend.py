"""Front-end benchmark: seconds of compute per second of audio, and peak memory, for each front-end stage.

Run from the repository root:  python bench/frontend.py [--repeats 5] [--threads N] [--skip-full] [--quick]
Two tables: every stage on the same audio (loading, mel, the three F0 trackers, MMS with all 24 layers as the
official wrapper runs it vs the first 7 as notebook 03 does), then the F0 trackers of notebook 04 on every
16 kHz clip of data_samples/. `--quick` (under a minute): no full-size MMS, 2 repeats, 3 clips, no memory column.
Prints markdown tables; asserts nothing about time (DESIGN.md, Benchmarks)."""
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
    # "tiny-deep": tiny width with the real depth of 24 layers, where per-layer overhead dominates
    config = {"full": mms_300m_config, "tiny": tiny_mms_config,
              "tiny-deep": lambda: tiny_mms_config(num_hidden_layers=24)}[size]()
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


def f0_tracker_table(num_clips: int | None, repeats: int) -> str:
    "Seconds per clip of each F0 tracker on the 16 kHz clips of data_samples/ (padded the official way)."
    import warnings
    from hierspeech_nb.audio import SAMPLE_RATE, load_audio, pad_to_frames
    from hierspeech_nb.pitch import F0_METHODS, get_f0
    lines = (REPO / "data_samples" / "filelist.txt").read_text().splitlines()
    paths = [REPO / line.split("|")[0] for line in lines if line.strip()][:num_clips]
    rows, totals, audio_seconds = [], dict.fromkeys(F0_METHODS, 0.0), 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # pYAAPT's numpy warnings on silent frames
        for path in paths:
            wav = pad_to_frames(load_audio(path))
            seconds = wav.shape[-1] / SAMPLE_RATE
            audio_seconds += seconds
            times = {method: median_seconds(functools.partial(get_f0, wav, method=method, progress=False),
                                            repeats=repeats) for method in F0_METHODS}
            for method in F0_METHODS:
                totals[method] += times[method]
            rows.append([path.stem, f"{seconds:.2f}"] + [f"{times[m]:.3f}" for m in F0_METHODS]
                        + [f"{times['yaapt'] / times[m]:.1f}x" for m in F0_METHODS if m != "yaapt"])
    rows.append([f"**all {len(paths)} clips**", f"{audio_seconds:.2f}"] + [f"{totals[m]:.3f}" for m in F0_METHODS]
                + [f"{totals['yaapt'] / totals[m]:.1f}x" for m in F0_METHODS if m != "yaapt"])
    others = [m for m in F0_METHODS if m != "yaapt"]
    return table(["clip", "audio (s)"] + [f"{m} (s)" for m in F0_METHODS] + [f"YAAPT / {m}" for m in others], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="audio length per run (s)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per stage (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--skip-full", action="store_true", help="skip the full-size (315 M) random MMS")
    parser.add_argument("--quick", action="store_true", help="under a minute: --skip-full, 2 repeats, 3 F0 clips, no memory")
    args = parser.parse_args()
    if args.quick:
        args.skip_full, args.repeats = True, 2
    if args.threads:
        torch.set_num_threads(args.threads)
    from hierspeech_nb.pitch import F0_METHODS

    stages = [("load 48 kHz file + resample to 16 kHz", stage_load_48k, _load_clip_seconds()),
              ("log-mel spectrogram", stage_mel, args.seconds)]
    stages += [(f"F0 {method}" + (" (official)" if method == "yaapt" else ""),
                functools.partial(stage_f0, method=method), args.seconds) for method in F0_METHODS]
    stages += [("MMS tiny, 7 layers", functools.partial(stage_mms, size="tiny", num_layers=7), args.seconds),
               ("MMS tiny width, 24 layers, all 24 (official)",
                functools.partial(stage_mms, size="tiny-deep", num_layers="all"), args.seconds),
               ("MMS tiny width, 24 layers, first 7 (ours)",
                functools.partial(stage_mms, size="tiny-deep", num_layers=7), args.seconds)]
    if not args.skip_full:
        stages += [("MMS full-size (random 315 M), all 24 layers (official)",
                    functools.partial(stage_mms, size="full", num_layers="all"), args.seconds),
                   ("MMS full-size (random 315 M), first 7 layers (ours)",
                    functools.partial(stage_mms, size="full", num_layers=7), args.seconds)]
    rows = []
    for name, setup, seconds in stages:
        run = setup(seconds)
        median = median_seconds(run, repeats=args.repeats)
        memory = ["-", "-"]   # --quick: a fresh process per stage costs more than the timings
        if not args.quick:
            memory = [f"{mb:.0f}" for mb in peak_memory_mb(functools.partial(setup, seconds))]
        rows.append([name, f"{seconds:.2f}", f"{median * 1000:.1f}", f"{median / seconds:.4f}"] + memory)
        print(f"done: {name}", file=sys.stderr)
    table_f0 = f0_tracker_table(3 if args.quick else None, 1 if args.quick else args.repeats)
    print(f"Machine: {machine()}\n")
    print(table(["stage", "audio (s)", "median (ms)", "compute s / audio s", "RSS after setup (MB)",
                 "peak added by one run (MB)"], rows))
    print("\nF0 trackers on the 16 kHz clips of data_samples/ (notebook 04), median seconds per clip:\n")
    print(table_f0)


if __name__ == "__main__":
    main()
