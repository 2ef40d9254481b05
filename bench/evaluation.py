"""Evaluation benchmark: Resemblyzer speaker embeddings with one torch thread (the default) or torch's default pool.

Run from the repository root:  python bench/evaluation.py [--repeats 5]
Prints a markdown table; asserts nothing about time (DESIGN.md, Benchmarks). Needs the `eval` extra."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, median_seconds, table  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from hierspeech_nb import evaluation, evaluation_models
    clips = [evaluation.as_clip(path) for path in sorted((REPO / "data_samples").glob("*.wav"))[:4]]
    seconds_of_audio = sum(clip.size for clip in clips) / evaluation.SAMPLE_RATE
    default_threads = torch.get_num_threads()
    rows = []
    for threads in dict.fromkeys((1, default_threads)):
        evaluation_models.SPEAKER_ENCODER_THREADS = threads
        seconds = median_seconds(lambda: [evaluation_models.speaker_embedding(clip) for clip in clips], args.repeats)
        rows.append([threads, f"{seconds:.3f}", f"{seconds / seconds_of_audio:.3f}"])
    print(machine())
    print(f"\nspeaker_embedding over {len(clips)} clips ({seconds_of_audio:.1f} s of audio), median of {args.repeats}\n")
    print(table(["torch threads", "seconds", "seconds per second of audio"], rows))


if __name__ == "__main__":
    main()
