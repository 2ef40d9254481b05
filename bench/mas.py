"""MAS benchmark: naive Python vs vectorised torch (hierspeech_nb.mas), plus optional outside references.

Run from the repository root:  python bench/mas.py [--repeats 5] [--threads N] [--device cpu]
Ours: naive Python, vectorised torch, and the numba-compiled default `maximum_path`.
Optional outside reference, imported here only (never a runtime dependency of hierspeech_nb):
- the PyPI package `monotonic-alignment-search` (`pip install monotonic-alignment-search`): its Cython
  `maximum_path` (the Glow-TTS/VITS kernel) and its NumPy version.
A missing one is reported in the output. Every implementation's path is compared with ours (torch.equal).
Prints markdown tables; asserts nothing about time (DESIGN.md, Benchmarks)."""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, median_seconds, table  # noqa: E402

from hierspeech_nb.mas import maximum_path, maximum_path_naive, maximum_path_torch  # noqa: E402

# (name, batch, text tokens, frames); the largest item of each batch has exactly these sizes
SIZES = [("batch 1", 1, 100, 400), ("batch 16", 16, 150, 800)]
NAIVE_MAX_CELLS = 200_000   # above this many table cells, the naive Python version runs once (no warm-up, 1 repeat)


def make_inputs(batch: int, num_tokens: int, num_frames: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    "Scores 3*N(0,1)-5 (as the golden fixture) and a mask with uneven lengths; item 0 has the full size."
    generator = torch.Generator().manual_seed(seed)
    neg_cent = 3 * torch.randn(batch, num_frames, num_tokens, generator=generator) - 5
    frame_lengths = torch.randint(num_frames // 2, num_frames + 1, (batch,), generator=generator)
    text_lengths = torch.randint(num_tokens // 2, num_tokens + 1, (batch,), generator=generator)
    frame_lengths[0], text_lengths[0] = num_frames, num_tokens
    frame_mask = torch.arange(num_frames)[None] < frame_lengths[:, None]
    text_mask = torch.arange(num_tokens)[None] < text_lengths[:, None]
    return neg_cent, (frame_mask[:, :, None] & text_mask[:, None, :]).float()


def package_maximum_paths() -> dict:
    "The PyPI package's implementations, or {name: reason} when it is not installed."
    try:
        import monotonic_alignment_search as package
    except ImportError as error:
        return {"monotonic-alignment-search": f"not installed ({error}); `pip install monotonic-alignment-search`"}
    return {
        # the package keeps Glow-TTS's order [b, t_text, t_frames] (VITS transposed it): transpose in and out
        "package, Cython": lambda neg_cent, mask: package.maximum_path(
            neg_cent.transpose(1, 2).contiguous(), mask.transpose(1, 2).contiguous(), implementation="cython").transpose(1, 2),
        "package, NumPy": lambda neg_cent, mask: package.maximum_path(
            neg_cent.transpose(1, 2).contiguous(), mask.transpose(1, 2).contiguous(), implementation="numpy").transpose(1, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="device for the vectorised torch version")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(machine())
    device = torch.device(args.device)

    implementations = {"naive Python (ours)": maximum_path_naive}

    def vectorised(neg_cent, mask):
        path = maximum_path_torch(neg_cent.to(device), mask.to(device))
        if device.type == "cuda":
            torch.cuda.synchronize()
        return path.cpu()

    implementations[f"vectorised torch (ours, {device.type})"] = vectorised
    implementations["compiled numba (ours, default maximum_path)"] = maximum_path
    unavailable = []
    for name, run in package_maximum_paths().items():
        if isinstance(run, str):
            unavailable.append((name, run))
        else:
            implementations[name] = run

    rows = []
    for size_name, batch, num_tokens, num_frames in SIZES:
        neg_cent, mask = make_inputs(batch, num_tokens, num_frames)
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # the bench inputs are all feasible
            reference = maximum_path(neg_cent, mask)
        cells = batch * num_tokens * num_frames
        times = {}
        for name, run in implementations.items():
            capped = name.startswith("naive") and cells > NAIVE_MAX_CELLS
            repeats, warmup = (1, 0) if capped else (args.repeats, 1)
            times[name] = (median_seconds(lambda: run(neg_cent, mask), repeats=repeats, warmup=warmup), repeats,
                           torch.equal(run(neg_cent, mask).to(reference.dtype), reference))
        baseline = times["naive Python (ours)"][0]
        for name, (seconds, repeats, same) in times.items():
            rows.append([f"{size_name} ({num_tokens} tokens × {num_frames} frames)", name, f"{seconds * 1e3:.2f}",
                         repeats, f"{baseline / seconds:.1f}×", "yes" if same else "**no**"])
    print()
    print(table(["size", "implementation", "median ms", "repeats", "speed-up vs naive", "same path as ours"], rows))
    print(f"\nNaive Python runs once without warm-up when the batch has more than {NAIVE_MAX_CELLS:,} cells "
          "(pure-Python loops over NumPy float32 scalars take seconds there).")
    for name, reason in unavailable:
        print(f"- {name}: unavailable, {reason}")


if __name__ == "__main__":
    main()
