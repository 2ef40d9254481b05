"""Inference benchmark: zero-shot voice conversion with the full-size synthesizer, official structure vs ours.

Run from the repository root:  python bench/inference.py [--seconds 4,10] [--repeats 3] [--threads N] [--skip-memory]

Runtime: the defaults took 3 min 20 s on an idle 2-core CPU; with other jobs sharing those cores a 4 s-only run
with 2 repeats already took 5 min, so on a busy machine use `--seconds 4 --repeats 2` (or `--skip-memory`).

Both paths use the full-size synthesizer (`create_model("synthesizer")`, 97 M parameters) and a full-size-shaped
MMS (`Wav2Vec2ForPreTraining(mms_300m_config())`, 317 M), all with random weights (nothing is downloaded), on CPU:

- "straightforward (official structure)": weight norm left on, the anti-aliased activations as the official chain
  (`set_polyphase(model, False)`: replicate pad, transposed conv, SnakeBeta, pad, strided conv), MMS runs all 24
  layers keeping every hidden state and reads index 7, the prompt is duplicated into two rows with denoise_ratio 0
  (as the official inference script does when no denoising is asked for), under `torch.no_grad()`.
- "ours (inference path)": weight norm folded into plain weights (a copy of the same weights), which lets the AMP
  blocks run channels-last with polyphase anti-aliased activations (notebook 05), the 7-layer
  `MMSFeatureExtractor`, one prompt row, under `torch.inference_mode()`.

F0 (YAAPT, the official tracker) is computed once per length and shared by both paths; it is not timed here
(see bench/frontend.py for its cost). Each run is timed in two parts: "synthesizer only" = `convert` given the MMS
features, the log-F0 and the prompt log-mel; "end to end" = MMS features + prompt log-mel + that `convert`. The
warm-up run of each path uses noise_scale 0 and gives the waveforms whose difference is reported; the timed
runs alternate between the paths, so a change in machine load hits both. Source: a
real 16 kHz clip (data_samples/filelist.txt) repeated/cut to length; prompt: 3 s of another speaker. Prints
markdown tables; asserts nothing about time (DESIGN.md, Benchmarks). Random weights cost the same compute as the
released ones."""
from __future__ import annotations

import argparse
import copy
import functools
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, peak_memory_mb, table  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PROMPT_SECONDS = 3.0
SEED = 0
TIMING_NOISE_SCALE = 0.333   # the default temperature, used for the timed runs
TOLERANCE = 1e-4             # golden tolerance for the waveform difference (noise_scale = 0)
PATHS = ("straightforward", "ours")
PATH_NAMES = {"straightforward": "straightforward (official structure)", "ours": "ours (inference path)"}


def _filelist() -> list[list[str]]:
    return [line.split("|") for line in (REPO / "data_samples" / "filelist.txt").read_text().splitlines() if line]


def _cut(wav: torch.Tensor, seconds: float) -> torch.Tensor:
    "A clip [1, N] repeated/cut to `seconds` of 16 kHz audio."
    n = int(seconds * 16000)
    return wav.repeat(1, n // wav.shape[-1] + 1)[:, :n]


def source_and_prompt(seconds: float) -> tuple[torch.Tensor, torch.Tensor, str, str]:
    "Source [1, N] (first clip of the filelist) and a 3 s prompt [1, M] from the first clip of another speaker."
    from hierspeech_nb.audio import load_audio
    rows = _filelist()
    source_row = rows[0]
    prompt_row = next(row for row in rows if row[2] != source_row[2])
    source = _cut(load_audio(REPO / source_row[0]), seconds)
    prompt = _cut(load_audio(REPO / prompt_row[0]), PROMPT_SECONDS)
    return source, prompt, source_row[0], prompt_row[0]


def shared_log_f0(source: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
    "YAAPT F0 of the 1280-padded source, normalised to the prompt's range: float32 [1, 1, N1 / 80] (computed once)."
    from hierspeech_nb.audio import pad_to_frames
    from hierspeech_nb.pitch import get_f0, normalize_f0
    return normalize_f0(get_f0(pad_to_frames(source, 1280), method="yaapt", progress=False),
                        get_f0(prompt, method="yaapt", progress=False))


def build_models() -> tuple[torch.nn.Module, torch.nn.Module]:
    "The full-size synthesizer and a full-size-shaped MMS, random weights from a fixed seed, eval mode."
    from hierspeech_nb.models import create_model
    from hierspeech_nb.semantic import mms_300m_config
    from transformers import Wav2Vec2ForPreTraining
    torch.manual_seed(SEED)
    synthesizer = create_model("synthesizer").eval()
    mms = Wav2Vec2ForPreTraining(mms_300m_config()).eval()
    return synthesizer, mms


class Pipeline:
    "One inference path: `features()` (MMS + prompt mel) and `synthesize(features)`; `__call__` does both."

    def __init__(self, kind: str, synthesizer, mms, source: torch.Tensor, prompt: torch.Tensor,
                 log_f0: torch.Tensor):
        from hierspeech_nb.blocks import fold_weight_norm, set_polyphase
        from hierspeech_nb.semantic import MMSFeatureExtractor
        if kind not in PATHS:
            raise ValueError(f"unknown path {kind!r}; choose one of {PATHS}.")
        self.kind, self.source, self.prompt, self.log_f0 = kind, source, prompt, log_f0
        if kind == "ours":
            synthesizer = copy.deepcopy(synthesizer)
            fold_weight_norm(synthesizer)
            set_polyphase(synthesizer, True)
            self.extractor = MMSFeatureExtractor(mms.wav2vec2, 7)
            self.context = torch.inference_mode
        else:
            set_polyphase(synthesizer, False)   # the official chain: pad, transposed conv, SnakeBeta, pad, conv
            self.context = torch.no_grad
        self.synthesizer, self.mms = synthesizer, mms

    def features(self) -> tuple[torch.Tensor, torch.Tensor]:
        "(MMS layer-7 features [1, 1024, T], prompt log-mel [P, 80, T_p])."
        from hierspeech_nb.audio import mel_spectrogram
        from hierspeech_nb.semantic import prepare_mms_input, wav2vec2_hidden_state
        with self.context():
            if self.kind == "ours":
                w2v = self.extractor(self.source)
                mel = mel_spectrogram(self.prompt)                                   # [1, 80, T_p]
            else:
                w2v = wav2vec2_hidden_state(self.mms, prepare_mms_input(self.source), 7)
                mel = mel_spectrogram(torch.cat([self.prompt, self.prompt]))         # [2, 80, T_p]
        return w2v, mel

    def synthesize(self, features: tuple[torch.Tensor, torch.Tensor],
                   noise_scale: float = TIMING_NOISE_SCALE) -> torch.Tensor:
        "Waveform [1, N] at 16 kHz from precomputed features."
        w2v, mel = features
        generator = torch.Generator().manual_seed(SEED)
        with self.context():
            audio = self.synthesizer.convert(w2v, torch.tensor([w2v.shape[-1]]), self.log_f0, mel,
                                             noise_scale=noise_scale, denoise_ratio=0.0, generator=generator)
        return audio[0, :, : self.source.shape[-1]]

    def __call__(self, noise_scale: float = TIMING_NOISE_SCALE) -> torch.Tensor:
        return self.synthesize(self.features(), noise_scale)


def timed_runs(pipelines: dict[str, Pipeline], repeats: int) -> dict[str, tuple[float, float, torch.Tensor]]:
    "Per path: (median synthesizer-only s, median end-to-end s, warm-up waveform at noise_scale 0); interleaved runs."
    references = {kind: pipeline(noise_scale=0.0) for kind, pipeline in pipelines.items()}  # warm-up, deterministic
    synth_times = {kind: [] for kind in pipelines}
    total_times = {kind: [] for kind in pipelines}
    for _ in range(repeats):                   # straightforward, ours, straightforward, ...: shared load hits both
        for kind, pipeline in pipelines.items():
            start = time.perf_counter()
            features = pipeline.features()
            middle = time.perf_counter()
            pipeline.synthesize(features)
            stop = time.perf_counter()
            synth_times[kind].append(stop - middle)
            total_times[kind].append(stop - start)
    return {kind: (statistics.median(synth_times[kind]), statistics.median(total_times[kind]), references[kind])
            for kind in pipelines}


def memory_setup(kind: str, seconds: float, threads: int | None, log_f0: torch.Tensor):
    "Picklable setup for peak_memory_mb: build the path in the fresh process and return its end-to-end run."
    if threads:
        torch.set_num_threads(threads)
    source, prompt, _, _ = source_and_prompt(seconds)
    synthesizer, mms = build_models()
    pipeline = Pipeline(kind, synthesizer, mms, source, prompt, log_f0)
    if kind == "ours":
        del synthesizer   # ours keeps only the folded copy
    return pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", default="4,10", help="comma-separated source lengths (s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per path and length (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the peak-memory runs (fresh processes)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    lengths = [float(s) for s in args.seconds.split(",") if s.strip()]
    start = time.perf_counter()
    synthesizer, mms = build_models()
    params = sum(p.numel() for p in synthesizer.parameters()) / 1e6
    mms_params = sum(p.numel() for p in mms.parameters()) / 1e6
    print(f"built models in {time.perf_counter() - start:.1f} s", file=sys.stderr)

    rows, checks, clips = [], [], None
    for seconds in lengths:
        source, prompt, source_path, prompt_path = source_and_prompt(seconds)
        clips = (source_path, prompt_path)
        log_f0 = shared_log_f0(source, prompt)
        pipelines = {kind: Pipeline(kind, synthesizer, mms, source, prompt, log_f0) for kind in PATHS}
        results, waveforms = {}, {}
        timings = timed_runs(pipelines, args.repeats)
        for kind in pipelines:
            synth_only, end_to_end, waveforms[kind] = timings[kind]
            if args.skip_memory:
                peak = "skipped"
            else:
                _, added = peak_memory_mb(functools.partial(memory_setup, kind, seconds, args.threads, log_f0))
                peak = f"{added:.0f}"
            results[kind] = (synth_only, end_to_end)
            rows.append([PATH_NAMES[kind], f"{seconds:g}", torch.get_num_threads(), f"{synth_only:.2f}",
                         f"{end_to_end:.2f}", f"{synth_only / seconds:.3f}", f"{end_to_end / seconds:.3f}", peak])
            print(f"done: {kind}, {seconds:g} s", file=sys.stderr)
        difference = (waveforms["straightforward"] - waveforms["ours"]).abs().max().item()
        checks.append([f"{seconds:g}", f"{difference:.2e}", "yes" if difference <= TOLERANCE else "NO",
                       f"{results['straightforward'][0] / results['ours'][0]:.2f}x",
                       f"{results['straightforward'][1] / results['ours'][1]:.2f}x"])

    print(f"Machine: {machine()}\n")
    print(f"Synthesizer {params:.1f} M parameters, MMS-shaped wav2vec 2.0 {mms_params:.1f} M, random weights "
          f"(seed {SEED}); source {clips[0]} repeated/cut to length, prompt {PROMPT_SECONDS:g} s of {clips[1]}.")
    print("F0 (YAAPT + normalize_f0) computed once per length and shared by both paths (not timed). "
          f"Median of {args.repeats} interleaved runs after 1 warm-up; timed at noise_scale {TIMING_NOISE_SCALE}. "
          "RTF = compute seconds / audio seconds. Peak memory = MB added by one end-to-end run in a fresh process. "
          "Timings on a shared machine are noisy.\n")
    print(table(["path", "audio (s)", "torch threads", "synthesizer only (s)", "end to end incl. MMS (s)",
                 "RTF synthesizer", "RTF end to end", "peak added (MB)"], rows))
    print()
    print(table(["audio (s)", "max abs difference straightforward vs ours (noise_scale 0)", f"within {TOLERANCE:g}",
                 "speed-up ours/straightforward, synthesizer only", "speed-up ours/straightforward, end to end"],
                checks))


if __name__ == "__main__":
    main()
