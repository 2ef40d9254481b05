"""One prepared device check (issue 20): is HierSpeech++ correct and how fast is it on this device?

    python scripts/device_check.py                         # on a GPU: about 8 minutes, full-size models
    python scripts/device_check.py --device cpu --tiny     # CI: tiny models, about a minute, so it cannot rot

Prints one markdown table (and writes it to --out if given):
- golden: the golden tests (tests/test_golden_*.py) with new tensors and fixtures on the device, TF32 off;
- inference: VC and TTS (+ SpeechSR 48 kHz) on random weights of the released sizes (tiny ones with --tiny),
  plain models vs `optimize_for_inference`, float32 vs bfloat16 (appendix A5): seconds, real-time factor, peak
  memory, and the largest difference to the plain float32 output;
- training: synthesizer and TTV steps in bfloat16 autocast (float32 with --tiny on a CPU): steps per second, peak
  memory, whether every loss stayed finite.
Random weights cost the same compute as the released ones; nothing is downloaded. The script asserts nothing about
time; it exits 1 if a golden test fails, an output is not finite or a loss is not finite.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "data_samples" / "lvx_ss01_0880.wav"
PROMPT = REPO / "data_samples" / "allison_vm-msgforwarded.wav"
TEXT = "Text to speech on a graphics card, as on a processor, with the same voice and the same words."
GOLDEN_TINY = ["tests/test_golden_synth_flows.py", "tests/test_golden_mas.py"]   # a quick subset for --tiny


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak(device: torch.device) -> str:
    "Peak memory since the last reset (CUDA), or '—' where PyTorch does not track it."
    return f"{torch.cuda.max_memory_allocated(device) / 2**20:.0f} MB" if device.type == "cuda" else "—"


def golden(device: str, tiny: bool) -> tuple[list[str], bool]:
    "Run the golden tests on `device` in a subprocess; returns (table row, passed)."
    files = GOLDEN_TINY if tiny else sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").glob("test_golden_*.py"))
    env = {**os.environ, "HIERSPEECH_TEST_DEVICE": device}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files], cwd=REPO,
                          env=env, capture_output=True, text=True)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-200:]
    if done.returncode != 0:
        print(done.stdout[-6000:], file=sys.stderr)
    row = ["golden tests", f"{len(files)} files", "TF32 off", f"{time.perf_counter() - started:.1f} s", "", "",
           summary, "ok" if done.returncode == 0 else "FAIL"]
    return row, done.returncode == 0


def build_pipeline(tiny: bool, device: str, optimize: bool, dtype: str | None):
    "A pipeline of random models (released sizes, or tiny), seeded, optimized and cast as asked, on `device`."
    from transformers import Wav2Vec2Model

    from hierspeech_nb.accel import optimize_for_inference
    from hierspeech_nb.inference import HierSpeechPipeline
    from hierspeech_nb.models import create_model
    from hierspeech_nb.precision import cast_for_inference
    from hierspeech_nb.semantic import MMSFeatureExtractor, mms_300m_config, tiny_mms
    config = "tiny" if tiny else None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        models = {name: create_model(name, config).eval() for name in ("synthesizer", "ttv", "speechsr48k")}
        mms = tiny_mms() if tiny else MMSFeatureExtractor(Wav2Vec2Model(mms_300m_config()), 7).eval()
    for name, model in models.items():
        model = model.to(device)
        models[name] = optimize_for_inference(model) if optimize else model
        if dtype is not None:
            cast_for_inference(models[name], dtype)
    mms = mms.to(device)
    if dtype is not None:
        cast_for_inference(mms, dtype)
    return HierSpeechPipeline(synthesizer=models["synthesizer"], ttv=models["ttv"], mms=mms,
                              speechsr={48_000: models["speechsr48k"]}, device=device)


def inference(tiny: bool, device: torch.device) -> tuple[list[list[str]], bool]:
    "VC and TTS at 48 kHz per (optimize, dtype): seconds, real-time factor, peak memory, difference to plain fp32."
    from hierspeech_nb.audio import load_audio
    source = load_audio(SOURCE)[:, : 16_000 if tiny else None]
    text = "Hello there." if tiny else TEXT
    calls = {"VC": lambda p: p.vc(source, PROMPT, seed=0, output_rate=48_000, scale_norm="none", progress=False),
             "TTS": lambda p: p.tts(text, PROMPT, seed=0, output_rate=48_000, scale_norm="none", progress=False)}
    dtypes = [None, "bf16"]   # on a CPU bf16 checks correctness only: most of its kernels are not fast there
    rows, ok, reference = [], True, {}
    for optimize in (False, True):
        for dtype in dtypes:
            pipeline = build_pipeline(tiny, str(device), optimize, dtype)
            for task, call in calls.items():
                call(pipeline)                                   # warm-up: cuDNN autotuning, allocator, caches
                _sync(device)
                _reset_peak(device)
                started = time.perf_counter()
                audio, rate = call(pipeline)
                _sync(device)
                seconds = time.perf_counter() - started
                reference.setdefault(task, audio)
                same = audio.shape == reference[task].shape
                difference = f"{float((audio - reference[task]).abs().max()):.2e}" if same else "length differs"
                finite = bool(torch.isfinite(audio).all())
                ok &= finite
                rows.append([task, "optimized" if optimize else "plain", dtype or "fp32", f"{seconds:.2f} s",
                             f"{seconds / (audio.shape[-1] / rate):.3f}", _peak(device), difference,
                             "ok" if finite else "NOT FINITE"])
            del pipeline
    return rows, ok


def _synthesizer_batch(tiny: bool) -> dict:
    from hierspeech_nb.audio import linear_spectrogram, mel_spectrogram
    batch, frames = (2, 64) if tiny else (8, 192)   # the TTV cuts 60-frame pitch segments
    generator = torch.Generator().manual_seed(0)
    audio = torch.randn(batch, 1, frames * 320, generator=generator) * 0.1
    return {"audio": audio, "linear": linear_spectrogram(audio), "mel": mel_spectrogram(audio),
            "w2v": torch.randn(batch, 1024, frames, generator=generator),
            "log_f0": torch.rand(batch, 1, 4 * frames, generator=generator) * 5,
            "lengths": torch.full((batch,), frames, dtype=torch.long)}


def _ttv_batch(tiny: bool) -> dict:
    from hierspeech_nb.ttv_training import sentence_ids
    batch = _synthesizer_batch(tiny)
    ids = sentence_ids("Hello there." if tiny else TEXT)
    size = batch["w2v"].shape[0]
    batch["text_ids"] = ids[None].expand(size, -1).clone()
    batch["text_lengths"] = torch.full((size,), ids.shape[0], dtype=torch.long)
    return batch


def training(tiny: bool, device: torch.device) -> tuple[list[list[str]], bool]:
    "Steps of the synthesizer (with its discriminators) and the TTV: steps per second, peak memory, finite losses."
    from hierspeech_nb.config import released_config, tiny_config
    from hierspeech_nb.discriminators import DiscriminatorConfig
    from hierspeech_nb.synthesizer_training import SynthesizerTask
    from hierspeech_nb.training import Trainer, TrainerOptions
    from hierspeech_nb.ttv_training import TTVTask
    precision = "fp32" if device.type == "cpu" else "bf16"
    steps = 3 if tiny else 100
    rows, ok = [], True
    for name, task_class, make_batch in (("synthesizer", SynthesizerTask, _synthesizer_batch),
                                         ("ttv", TTVTask, _ttv_batch)):
        config = tiny_config(name) if tiny else released_config(name)
        if name == "synthesizer":
            config.train.segment_size = (32 if tiny else 192) * 320
            if tiny:
                config.train.extra["discriminator"] = DiscriminatorConfig.tiny().to_dict()
        options = TrainerOptions(out_dir=tempfile.mkdtemp(), max_steps=10**9, precision=precision,
                                 tensorboard=False, progress=False, seed=0)
        trainer = Trainer(task_class(config), options, device=device)
        batch = make_batch(tiny)
        trainer.train_step(batch)                                # warm-up
        _sync(device)
        _reset_peak(device)
        finite = True
        started = time.perf_counter()
        for _ in range(steps):
            logs = trainer.train_step(batch)
            finite &= all(torch.isfinite(torch.tensor(value)) for value in logs.values())
        _sync(device)
        seconds = time.perf_counter() - started
        ok &= finite
        size = batch["w2v"].shape[0]
        rows.append([f"train {name}", f"batch {size}", precision, f"{steps / seconds:.2f} steps/s", "",
                     _peak(device), f"{steps} steps", "ok" if finite else "LOSS NOT FINITE"])
        del trainer
    return rows, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="tiny models and few steps (CI, about a minute)")
    parser.add_argument("--skip-golden", action="store_true", help="leave out the golden tests")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA GPU here; use --device cpu --tiny")
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
    header = ["what", "case", "precision", "time", "real-time factor", "peak memory", "max abs diff to fp32, or result",
              "status"]
    rows, ok = [], True
    if not args.skip_golden:
        row, passed = golden(args.device, args.tiny)
        rows.append(row)
        ok &= passed
    for section in (inference, training):
        section_rows, passed = section(args.tiny, device)
        rows += section_rows
        ok &= passed
    lines = [f"Device check on {name} ({device}), torch {torch.__version__}, "
             f"{'tiny models' if args.tiny else 'released sizes, random weights'}:", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
