"""Training benchmark: synthesizer GAN steps per second and peak memory on the CPU, tiny and full config.

Run from the repository root:  python bench/training.py [--repeats 3] [--threads N] [--skip-full]
One step = generator forward, discriminator step, generator step (hierspeech_nb.training.Trainer.train_step),
in float32, on random but correctly shaped utterances (no data loading). The batch, the utterance length and the
decoder segment are printed with each row. Peak memory is measured in a fresh process (bench/common.py).
Prints markdown tables; asserts nothing about time (DESIGN.md, Benchmarks)."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, median_seconds, peak_memory_mb, table  # noqa: E402

# (name, batch, utterance frames, segment frames); full = the released segment of 61,440 samples (192 frames)
SETTINGS = [("tiny", 2, 64, 40), ("full", 1, 192, 192)]
HOP = 320


def make_trainer(name: str, segment_frames: int):
    "A Trainer for the tiny or the released synthesizer config (tiny discriminators for tiny), fp32 on the CPU."
    from hierspeech_nb.config import released_config, tiny_config
    from hierspeech_nb.discriminators import DiscriminatorConfig
    from hierspeech_nb.synthesizer_training import SynthesizerTask
    from hierspeech_nb.training import Trainer, TrainerOptions
    config = tiny_config("synthesizer") if name == "tiny" else released_config("synthesizer")
    config.train.segment_size = segment_frames * HOP
    if name == "tiny":
        config.train.extra["discriminator"] = DiscriminatorConfig.tiny().to_dict()
    options = TrainerOptions(out_dir=tempfile.mkdtemp(), max_steps=10**9, precision="fp32", tensorboard=False,
                             progress=False, seed=0)
    return Trainer(SynthesizerTask(config), options)


def make_batch(batch: int, frames: int) -> dict:
    "Random utterances with the shapes of hierspeech_nb.batches.collate."
    from hierspeech_nb.audio import linear_spectrogram, mel_spectrogram
    generator = torch.Generator().manual_seed(0)
    audio = torch.randn(batch, 1, frames * HOP, generator=generator) * 0.1
    return {"audio": audio, "linear": linear_spectrogram(audio), "mel": mel_spectrogram(audio),
            "w2v": torch.randn(batch, 1024, frames, generator=generator),
            "log_f0": torch.rand(batch, 1, 4 * frames, generator=generator) * 5,
            "lengths": torch.full((batch,), frames, dtype=torch.long)}


class _StepSetup:
    "Picklable setup for peak_memory_mb: build the trainer and batch, return one training step."

    def __init__(self, name: str, batch: int, frames: int, segment: int, threads: int | None):
        self.name, self.batch, self.frames, self.segment, self.threads = name, batch, frames, segment, threads

    def __call__(self):
        if self.threads:
            torch.set_num_threads(self.threads)
        trainer = make_trainer(self.name, self.segment)
        batch = make_batch(self.batch, self.frames)
        trainer.train_step(batch)   # warm-up: allocator and optimiser state exist before the peak is reset
        return lambda: trainer.train_step(batch)


def count(module: torch.nn.Module) -> str:
    return f"{sum(p.numel() for p in module.parameters()) / 1e6:.2f} M"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--skip-full", action="store_true", help="only the tiny config")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(machine())
    rows = []
    for name, batch, frames, segment in SETTINGS:
        if name == "full" and args.skip_full:
            continue
        trainer = make_trainer(name, segment)
        step_input = make_batch(batch, frames)
        repeats = args.repeats if name == "tiny" else max(1, args.repeats - 1)
        seconds = median_seconds(lambda: trainer.train_step(step_input), repeats=repeats, warmup=1)
        resident, peak = peak_memory_mb(_StepSetup(name, batch, frames, segment, args.threads))
        rows.append([name, batch, f"{frames} ({frames * HOP / 16000:.2f} s)",
                     f"{segment * HOP} ({segment * HOP / 16000:.2f} s)", count(trainer.generator),
                     count(trainer.discriminator), f"{1 / seconds:.3f}", f"{seconds:.2f}", repeats,
                     f"{resident:.0f}", f"{peak:.0f}"])
        del trainer
    print()
    print(table(["config", "batch", "utterance frames", "segment samples", "generator params",
                 "discriminator params", "steps/s", "median s/step", "repeats", "resident MB", "peak +MB"], rows))
    print("\nfp32, CPU; one step = generator forward + discriminator step + generator step. The tiny config uses "
          "the tiny discriminators (DiscriminatorConfig.tiny), the full config the released MPD + MS-STFTD sizes.")


if __name__ == "__main__":
    main()
