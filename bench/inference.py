"""Inference benchmark: voice conversion (official structure vs ours), text-to-speech, SpeechSR, denoiser, end to end.

Run from the repository root:  python bench/inference.py [--only vc,tts,sr,e2e,practice] [--quick] [--threads N]
                                                          [--seconds 4,10] [--repeats 2] [--skip-memory]

Sections (all full-size models with random weights, nothing downloaded, CPU; random weights cost the same compute as
the released ones):

- vc:  voice conversion, "straightforward (official structure)" vs "ours (inference path)", interleaved (below).
- tts: text-to-speech of a 60-symbol sentence (TTV + synthesizer, weight norm folded): seconds, RTF, peak memory.
- sr:  SpeechSR 24 kHz / 48 kHz (`super_resolve`, default chunking) and the MP-SENet denoiser (`denoise`), seconds
       of compute per second of 16 kHz input, peak memory.
- e2e: `HierSpeechPipeline.tts` / `.vc` for about 4 s and 10 s of output at 16 kHz and 48 kHz (SpeechSR 48k),
       including everything the call does (VC: YAAPT F0, MMS, synthesizer; TTS: phonemizer, TTV, synthesizer).
- practice: three inputs as one list with a `VoicePrompt` vs one call each with the prompt tensor (TTS and VC), and
       the time to the first audio of `tts_stream` on three sentences vs the whole text.

Runtime: `--quick` (4 s only, 1 repeat, 2 interleaved for vc, no fresh-process memory runs for vc) is meant
for a busy machine: with 1 vc repeat it took 13 min wall / 445 CPU-s on a 2-core CPU shared with other jobs (load
3-7). The default run (vc 4 s and 10 s with 2 interleaved repeats and memory runs, e2e 4 s and 10 s, 1 repeat
elsewhere) is sized for under 10 minutes on an idle 2-core CPU, an estimate from CPU time that was not measured on an
idle machine; it prints its settings, wall time and CPU time. tts, sr and e2e each run in a fresh process, where
peak memory = MB added by a run (heap trimmed first) over the resident models.

vc section (issue 5): both paths use the full-size synthesizer (`create_model("synthesizer")`, 97 M parameters) and a
full-size-shaped MMS (`Wav2Vec2ForPreTraining(mms_300m_config())`, 317 M):
- "straightforward (official structure)": weight norm left on, the anti-aliased activations as the official chain
  (the lesson modules of notebook 05c: replicate pad, transposed conv, SnakeBeta, pad, strided conv), MMS runs all 24
  layers keeping every hidden state and reads index 7, the prompt is duplicated into two rows with denoise_ratio 0
  (as the official inference script does when no denoising is asked for), under `torch.no_grad()`.
- "ours (inference path)": `optimize_for_inference` of a copy of the same weights (appendix A3): weight norm folded,
  each generator stage's AMP blocks channels-last with every anti-aliased activation as one pass of the fused
  numba kernel (A2), the 7-layer
  `MMSFeatureExtractor`, one prompt row, under `torch.inference_mode()`.

F0 (YAAPT, the official tracker) is computed once per length and shared by both paths; it is not timed here
(see bench/frontend.py for its cost). Each run is timed in two parts: "synthesizer only" = `convert` given the MMS
features, the log-F0 and the prompt log-mel; "end to end" = MMS features + prompt log-mel + that `convert`. The
warm-up run of each path uses noise_scale 0 and gives the waveforms whose difference is reported; the timed
runs alternate between the paths, so a change in machine load hits both. Source: a
real 16 kHz clip (data_samples/filelist.txt) repeated/cut to length; prompt: 3 s of another speaker. Prints
markdown tables; asserts nothing about time (DESIGN.md, Benchmarks).

Measured with `--only vc` after the fast path moved into the appendix (issue 17; Intel Xeon, 2 cores, idle): ours
is 2.30x the official structure end to end at 4 s and 2.42x at 10 s (synthesizer only 2.21x / 2.38x), outputs within
1.2e-7 of each other at noise_scale 0."""
from __future__ import annotations

import argparse
import functools
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import in_fresh_process, machine, peak_memory_mb, table, timed_peak  # noqa: E402

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
        from hierspeech_nb.accel import optimize_for_inference
        from hierspeech_nb.semantic import MMSFeatureExtractor
        if kind not in PATHS:
            raise ValueError(f"unknown path {kind!r}; choose one of {PATHS}.")
        self.kind, self.source, self.prompt, self.log_f0 = kind, source, prompt, log_f0
        if kind == "ours":
            synthesizer = optimize_for_inference(synthesizer, inplace=False)   # appendix A3
            self.extractor = MMSFeatureExtractor(mms.wav2vec2, 7)
            self.context = torch.inference_mode
        else:   # the lesson modules: the official chain (pad, transposed conv, SnakeBeta, pad, conv), weight norm on
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


# ------------------------------------------------------------------------------------------- vc section (issue 5)
def vc_section(lengths: list[float], repeats: int, skip_memory: bool, threads: int) -> list[str]:
    "Markdown blocks of the straightforward-vs-ours voice-conversion comparison."
    start = time.perf_counter()
    synthesizer, mms = build_models()
    params = sum(p.numel() for p in synthesizer.parameters()) / 1e6
    mms_params = sum(p.numel() for p in mms.parameters()) / 1e6
    print(f"vc: built models in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    rows, checks, clips = [], [], None
    for seconds in lengths:
        source, prompt, source_path, prompt_path = source_and_prompt(seconds)
        clips = (source_path, prompt_path)
        log_f0 = shared_log_f0(source, prompt)
        pipelines = {kind: Pipeline(kind, synthesizer, mms, source, prompt, log_f0) for kind in PATHS}
        results, waveforms = {}, {}
        timings = timed_runs(pipelines, repeats)
        for kind in pipelines:
            synth_only, end_to_end, waveforms[kind] = timings[kind]
            if skip_memory:
                peak = "skipped"
            else:
                _, added = peak_memory_mb(functools.partial(memory_setup, kind, seconds, threads, log_f0))
                peak = f"{added:.0f}"
            results[kind] = (synth_only, end_to_end)
            rows.append([PATH_NAMES[kind], f"{seconds:g}", threads, f"{synth_only:.2f}",
                         f"{end_to_end:.2f}", f"{synth_only / seconds:.3f}", f"{end_to_end / seconds:.3f}", peak])
            print(f"vc: done {kind}, {seconds:g} s", file=sys.stderr)
        difference = (waveforms["straightforward"] - waveforms["ours"]).abs().max().item()
        checks.append([f"{seconds:g}", f"{difference:.2e}", "yes" if difference <= TOLERANCE else "NO",
                       f"{results['straightforward'][0] / results['ours'][0]:.2f}x",
                       f"{results['straightforward'][1] / results['ours'][1]:.2f}x"])
    return [
        "### Voice conversion: official structure vs ours (issue 5)\n",
        f"Synthesizer {params:.1f} M parameters, MMS-shaped wav2vec 2.0 {mms_params:.1f} M, random weights "
        f"(seed {SEED}); source {clips[0]} repeated/cut to length, prompt {PROMPT_SECONDS:g} s of {clips[1]}. "
        "F0 (YAAPT + normalize_f0) computed once per length and shared by both paths (not timed). "
        f"Median of {repeats} interleaved runs after 1 warm-up; timed at noise_scale {TIMING_NOISE_SCALE}. "
        "Peak memory = MB added by one end-to-end run in a fresh process.\n",
        table(["path", "audio (s)", "torch threads", "synthesizer only (s)", "end to end incl. MMS (s)",
               "RTF synthesizer", "RTF end to end", "peak added (MB)"], rows) + "\n",
        table(["audio (s)", "max abs difference straightforward vs ours (noise_scale 0)", f"within {TOLERANCE:g}",
               "speed-up ours/straightforward, synthesizer only", "speed-up ours/straightforward, end to end"],
              checks) + "\n"]


# ------------------------------------------------------------------------------------------ tts section (issue 7)
TTS_SENTENCE = "The birch canoe slid on the smooth planks of the blue lake."   # 60 phoneme symbols
SAMPLES_PER_FRAME = 320   # 16 kHz samples per 50 Hz MMS frame


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def _fold(model: torch.nn.Module) -> torch.nn.Module:
    "The inference model: `optimize_for_inference` (weight norm folded, the appendix's drop-ins on a CPU)."
    from hierspeech_nb.accel import optimize_for_inference
    return optimize_for_inference(model)


def build_tts_models() -> tuple[torch.nn.Module, torch.nn.Module]:
    "Full-size TTV and synthesizer, random weights from a fixed seed, weight norm folded, eval mode."
    from hierspeech_nb.models import create_model
    torch.manual_seed(SEED)
    return _fold(create_model("ttv")), _fold(create_model("synthesizer"))


def _prompt() -> torch.Tensor:
    "[1, M]: 3 s of real speech (the prompt of the vc section)."
    return source_and_prompt(PROMPT_SECONDS)[1]


def tts_child(threads: int, repeats: int) -> dict:
    "In a fresh process: TTV and synthesizer seconds (medians), output seconds, peak MB of one whole run."
    from hierspeech_nb.pitch import clip_low_log_f0
    from hierspeech_nb.ttv import ttv_infer
    from hierspeech_nb.ttv_training import prompt_mels, sentence_ids
    _set_threads(threads)
    ttv, synthesizer = build_tts_models()
    prompt = _prompt()
    ids = sentence_ids(TTS_SENTENCE)[None]                             # [1, 2L+1] with blanks
    lengths = torch.tensor([ids.shape[1]])

    def stage_ttv():
        with torch.inference_mode():
            mel = prompt_mels(prompt)
            return ttv_infer(ttv, ids, lengths, mel, generator=torch.Generator().manual_seed(SEED)), mel

    def stage_synthesizer(predicted, mel):
        with torch.inference_mode():
            return synthesizer.convert(predicted.w2v, predicted.lengths, clip_low_log_f0(predicted.pitch), mel,
                                       noise_scale=TIMING_NOISE_SCALE, generator=torch.Generator().manual_seed(SEED))

    stage_synthesizer(*stage_ttv())                                    # warm-up
    ttv_times, synth_times, peaks = [], [], []
    for _ in range(repeats):
        holder = {}

        def whole():
            start = time.perf_counter()
            holder["ttv"] = stage_ttv()
            holder["t"] = time.perf_counter() - start
            return stage_synthesizer(*holder["ttv"])

        seconds, peak, audio = timed_peak(whole)
        ttv_times.append(holder["t"])
        synth_times.append(seconds - holder["t"])
        peaks.append(peak)
    return {"symbols": (ids.shape[1] - 1) // 2, "audio": audio.shape[-1] / 16000,
            "ttv": statistics.median(ttv_times), "synthesizer": statistics.median(synth_times), "peak": max(peaks),
            "ttv_params": sum(p.numel() for p in ttv.parameters()) / 1e6}


def tts_section(repeats: int, threads: int) -> list[str]:
    result = in_fresh_process(functools.partial(tts_child, threads, repeats))
    total = result["ttv"] + result["synthesizer"]
    row = [result["symbols"], f"{result['audio']:.2f}", threads, f"{result['ttv']:.2f}",
           f"{result['synthesizer']:.2f}", f"{total:.2f}", f"{total / result['audio']:.3f}", f"{result['peak']:.0f}"]
    return ["### Text-to-speech, one 60-symbol sentence (issue 7)\n",
            f"\"{TTS_SENTENCE}\"; full-size TTV ({result['ttv_params']:.1f} M) + synthesizer, random weights (seed "
            f"{SEED}, so the durations and hence the output length are those of random weights), weight norm folded, "
            f"prompt {PROMPT_SECONDS:g} s of real speech, noise scales 0.333 / 1.0. Median of {repeats} runs after 1 "
            "warm-up, in a fresh process; TTV includes the prompt mel; peak = MB added by one whole run.\n",
            table(["phoneme symbols", "output (s)", "torch threads", "TTV (s)", "synthesizer (s)", "total (s)",
                   "RTF", "peak added (MB)"], [row]) + "\n"]


# ------------------------------------------------------------------------------- sr + denoiser section (issue 8)
def sr_child(threads: int, repeats: int, seconds: float) -> list[list]:
    "In a fresh process: per model, (name, parameters M, median s, peak MB) on `seconds` of real 16 kHz speech."
    from hierspeech_nb.denoiser import denoise
    from hierspeech_nb.models import create_model
    from hierspeech_nb.speechsr import super_resolve
    _set_threads(threads)
    torch.manual_seed(SEED)
    x = source_and_prompt(seconds)[0]                                   # [1, N]
    models = {"speechsr24k": _fold(create_model("speechsr24k")), "speechsr48k": _fold(create_model("speechsr48k")),
              "denoiser": create_model("denoiser").eval()}
    runs = {"speechsr24k": lambda: super_resolve(x, models["speechsr24k"], progress=False),
            "speechsr48k": lambda: super_resolve(x, models["speechsr48k"], progress=False),
            "denoiser": lambda: denoise(x, models["denoiser"], progress=False)}
    results = []
    for name, run in runs.items():
        run()                                                           # warm-up
        measured = [timed_peak(run) for _ in range(repeats)]
        results.append([name, sum(p.numel() for p in models[name].parameters()) / 1e6,
                        statistics.median(m[0] for m in measured), max(m[1] for m in measured)])
    return results


def sr_section(repeats: int, threads: int, seconds: float) -> list[str]:
    results = in_fresh_process(functools.partial(sr_child, threads, repeats, seconds))
    rows = [[name, f"{params:.2f}", f"{seconds:g}", threads, f"{median:.2f}", f"{median / seconds:.3f}", f"{peak:.0f}"]
            for name, params, median, peak in results]
    return ["### SpeechSR and denoiser (issue 8)\n",
            f"Full-size models, random weights (seed {SEED}); SpeechSR weight norm folded, through `super_resolve` "
            "(2 s output chunks); the denoiser through `denoise`. Input: real 16 kHz speech. Median of "
            f"{repeats} runs after 1 warm-up, in a fresh process; s/s = compute seconds per second of 16 kHz input; "
            "peak = MB added by one run (max over runs). bench/speechsr.py compares SpeechSR with the official "
            "structure on the released weights.\n",
            table(["model", "parameters (M)", "input (s)", "torch threads", "time (s)", "s per s of audio",
                   "peak added (MB)"], rows) + "\n"]


# ---------------------------------------------------------------------------------------- e2e section (issue 8)
E2E_RATES = (16_000, 48_000)
CALIBRATION_STEPS = 3   # TTV-only passes to choose length_scale


def build_pipeline(task: str):
    "HierSpeechPipeline with full-size random models for `task` ('tts' or 'vc') and SpeechSR 48k."
    from hierspeech_nb.inference import HierSpeechPipeline
    from hierspeech_nb.models import create_model
    from hierspeech_nb.semantic import MMSFeatureExtractor, mms_300m_config
    from transformers import Wav2Vec2Model
    torch.manual_seed(SEED)
    synthesizer = _fold(create_model("synthesizer"))
    ttv = _fold(create_model("ttv")) if task == "tts" else None
    mms = MMSFeatureExtractor(Wav2Vec2Model(mms_300m_config()), 7).eval() if task == "vc" else None
    return HierSpeechPipeline(synthesizer=synthesizer, mms=mms, ttv=ttv,
                              speechsr={48_000: _fold(create_model("speechsr48k"))})


def _tts_length_scale(pipeline, prompt: torch.Tensor, seconds: float) -> float:
    "length_scale that makes the random-weight TTV say TTS_SENTENCE in about `seconds`."
    from hierspeech_nb.ttv import ttv_infer
    from hierspeech_nb.ttv_training import prompt_mels, sentence_ids
    ids = sentence_ids(TTS_SENTENCE)[None]
    mel, scale = prompt_mels(prompt), 1.0

    def duration(scale: float) -> float:
        with torch.inference_mode():
            predicted = ttv_infer(pipeline.ttv, ids, torch.tensor([ids.shape[1]]), mel, length_scale=scale,
                                  generator=torch.Generator().manual_seed(SEED))
        return int(predicted.lengths[0]) * SAMPLES_PER_FRAME / 16000

    for _ in range(CALIBRATION_STEPS):      # frames = sum of ceil(w * scale): nearly proportional to the scale
        scale *= seconds / duration(scale)
    return scale


def e2e_child(task: str, threads: int, repeats: int, lengths: tuple[float, ...]) -> list[list]:
    "In a fresh process: per (length, rate), [output s, median s, peak MB] of pipeline.tts / .vc."
    _set_threads(threads)
    pipeline = build_pipeline(task)
    prompt = _prompt()
    calls = {}
    for seconds in lengths:
        if task == "tts":
            scale = _tts_length_scale(pipeline, prompt, seconds)
            for rate in E2E_RATES:
                calls[seconds, rate] = functools.partial(pipeline.tts, TTS_SENTENCE, prompt, length_scale=scale,
                                                         output_rate=rate, seed=SEED, progress=False)
        else:
            source = source_and_prompt(seconds)[0]
            for rate in E2E_RATES:
                calls[seconds, rate] = functools.partial(pipeline.vc, source, prompt, output_rate=rate, seed=SEED,
                                                         progress=False)
    calls[min(lengths), max(E2E_RATES)]()                               # warm-up (every model)
    results = []
    for (seconds, rate), call in calls.items():
        measured = [timed_peak(call) for _ in range(repeats)]
        audio, out_rate = measured[0][2]
        results.append([seconds, rate, audio.shape[-1] / out_rate, statistics.median(m[0] for m in measured),
                        max(m[1] for m in measured)])
        print(f"e2e: done {task}, {seconds:g} s, {rate} Hz", file=sys.stderr)
    return results


def e2e_section(repeats: int, threads: int, lengths: tuple[float, ...]) -> list[str]:
    rows = []
    for task in ("tts", "vc"):
        for seconds, rate, out_seconds, median, peak in in_fresh_process(
                functools.partial(e2e_child, task, threads, repeats, lengths)):
            rows.append([task.upper(), f"{seconds:g}", f"{out_seconds:.2f}", f"{rate // 1000} kHz", threads,
                         f"{median:.2f}", f"{median / out_seconds:.3f}", f"{peak:.0f}"])
    return ["### End to end (issue 8)\n",
            "`HierSpeechPipeline.tts` / `.vc` with full-size random-weight models (synthesizer and TTV folded, "
            "7-layer MMS-shaped extractor, SpeechSR 48k folded), denoise_ratio 0, prompt "
            f"{PROMPT_SECONDS:g} s of real speech. VC includes YAAPT F0 of source and prompt, MMS and the synthesizer; "
            f"TTS includes the phonemizer, TTV and the synthesizer on \"{TTS_SENTENCE}\" with length_scale chosen "
            "so the random-weight durations give about the target length; 48 kHz adds SpeechSR. Median of "
            f"{repeats} run(s) after 1 warm-up, one fresh process per task; RTF = compute s / output s; peak = MB "
            "added by one call over the resident models.\n",
            table(["task", "target (s)", "output (s)", "output rate", "torch threads", "time (s)", "RTF",
                   "peak added (MB)"], rows) + "\n"]


# ------------------------------------------------------------------------------------------- practice (issue 19)
PRACTICE_TEXTS = ("The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
                  "It is easy to tell the depth of a well.")
PRACTICE_SOURCE_SECONDS = 2.0


def practice_child(threads: int) -> list[list]:
    "In a fresh process: lists vs one call per input (prompt re-encoded each time), and time to first streamed audio."
    _set_threads(threads)
    from hierspeech_nb.inference import HierSpeechPipeline
    tts, vc = build_pipeline("tts"), build_pipeline("vc")
    pipeline = HierSpeechPipeline(synthesizer=tts.synthesizer, ttv=tts.ttv, mms=vc.mms)   # one model of each
    prompt = _prompt()
    sources = [source_and_prompt(PRACTICE_SOURCE_SECONDS + k)[0] for k in range(len(PRACTICE_TEXTS))]
    pipeline.tts(PRACTICE_TEXTS[0], prompt, seed=SEED, progress=False)                   # warm-up
    rows = []
    for task, inputs, call in (("TTS", PRACTICE_TEXTS, pipeline.tts), ("VC", sources, pipeline.vc)):
        start = time.perf_counter()
        alone = [call(one, prompt, seed=SEED, progress=False)[0] for one in inputs]      # prompt encoded per call
        t_alone = time.perf_counter() - start
        start = time.perf_counter()
        together = [audio for audio, _ in call(list(inputs), pipeline.prompt(prompt), seed=SEED, progress=False)]
        t_list = time.perf_counter() - start
        same = all(torch.equal(a, b) for a, b in zip(alone, together))
        seconds = sum(a.shape[-1] for a in together) / 16000
        rows.append([f"{task}, {len(inputs)} inputs", f"{seconds:.1f}", f"{t_alone:.2f}", f"{t_list:.2f}",
                     f"{t_alone / t_list:.2f}x", "equal" if same else "DIFFERENT"])
    text = " ".join(PRACTICE_TEXTS)
    voice = pipeline.prompt(prompt)
    start = time.perf_counter()
    stream = pipeline.tts_stream(text, voice, seed=SEED, progress=False)
    first, _ = next(stream)
    t_first = time.perf_counter() - start
    rest = [chunk for chunk, _ in stream]
    t_all = time.perf_counter() - start
    seconds = (first.shape[-1] + sum(c.shape[-1] for c in rest)) / 16000
    rows.append([f"TTS stream, {len(PRACTICE_TEXTS)} sentences", f"{seconds:.1f}", f"{t_all:.2f} (whole text)",
                 f"{t_first:.2f} (first audio)", f"{t_all / t_first:.2f}x sooner", "-"])
    return rows


def practice_section(threads: int) -> list[str]:
    rows = in_fresh_process(functools.partial(practice_child, threads))
    return ["### Prompt once, lists and streaming (issue 19)\n",
            "Full-size random-weight TTV, synthesizer and 7-layer MMS-shaped extractor (weight norm folded), 16 kHz, "
            f"a {PROMPT_SECONDS:g} s prompt of real speech. \"one call each\": `tts`/`vc` once per input with the "
            "prompt tensor, so the prompt's mel, both style vectors and its YAAPT F0 are computed every time; "
            "\"list\": one call with the list and a `VoicePrompt` (encoded inside the timing). Inputs run one after "
            "another either way (the DiT attention and the style pooling are not padding-invariant); the outputs are "
            "compared for equality. Stream: time until `tts_stream` yields its first sentence vs until it has "
            "yielded all. One run, after a warm-up, in a fresh process.\n",
            table(["what", "output (s)", "one call each / whole (s)", "list / first (s)", "gain", "outputs"], rows)
            + "\n"]


# ------------------------------------------------------------------------------------------------------- main
SECTIONS = ("vc", "tts", "sr", "e2e", "practice")
DEFAULTS = {"seconds": "4,10", "repeats": 2, "tts_repeats": 1, "sr_seconds": 4.0, "sr_repeats": 1,
            "e2e_seconds": "4,10", "e2e_repeats": 1}
QUICK = {"seconds": "4", "repeats": 2, "tts_repeats": 1, "sr_seconds": 2.0, "sr_repeats": 1,
         "e2e_seconds": "4", "e2e_repeats": 1}


def _floats(text: str) -> list[float]:
    return [float(s) for s in text.split(",") if s.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--quick", action="store_true",
                        help="short run: 4 s only, 1 repeat (2 interleaved for vc), SR on 2 s, "
                             "no fresh-process memory runs for vc")
    parser.add_argument("--seconds", default=None, help="vc: comma-separated source lengths (s)")
    parser.add_argument("--repeats", type=int, default=None, help="vc: timed runs per path and length (median)")
    parser.add_argument("--e2e-seconds", default=None, help="e2e: comma-separated target output lengths (s)")
    parser.add_argument("--e2e-repeats", type=int, default=None, help="e2e: timed runs per configuration")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--skip-memory", action="store_true", help="vc: skip the peak-memory runs (fresh processes)")
    args = parser.parse_args()
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"--only: unknown section(s) {unknown}; choose from {SECTIONS}, e.g. --only vc,e2e.")
    settings = dict(QUICK if args.quick else DEFAULTS)
    for key in ("seconds", "repeats", "e2e_seconds", "e2e_repeats"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    skip_memory = args.skip_memory or args.quick
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    print(f"sections {sections}; settings {settings}; vc memory runs {'off' if skip_memory else 'on'}; "
          f"{threads} torch threads; load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    load_start, clock = os.getloadavg(), time.perf_counter()
    blocks = []
    if "vc" in sections:
        blocks += vc_section(_floats(settings["seconds"]), settings["repeats"], skip_memory, threads)
    if "tts" in sections:
        blocks += tts_section(settings["tts_repeats"], threads)
    if "sr" in sections:
        blocks += sr_section(settings["sr_repeats"], threads, settings["sr_seconds"])
    if "e2e" in sections:
        blocks += e2e_section(settings["e2e_repeats"], threads, tuple(_floats(settings["e2e_seconds"])))
    if "practice" in sections:
        blocks += practice_section(threads)
    load_end = os.getloadavg()
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu_seconds = sum(u.ru_utime + u.ru_stime for u in usage)
    print(f"Machine: {machine()}\n")
    print(f"Settings: {'--quick' if args.quick else 'default'} {settings}; sections {', '.join(sections)}; "
          f"wall time {time.perf_counter() - clock:.0f} s, CPU time {cpu_seconds:.0f} s (all processes); "
          f"1-min load average {load_start[0]:.2f} at start, "
          f"{load_end[0]:.2f} at end ({os.cpu_count()} logical CPUs; a load above that means shared cores). "
          "RTF = compute seconds / audio seconds. Timings on a shared machine are noisy: compare ratios of the same "
          "run.\n")
    print("\n".join(blocks))


if __name__ == "__main__":
    main()
