"""DDP resume (notebook 13): two gloo processes train, stop, and new processes resume to the same weights as an
uninterrupted run, each rank with its own random states back; a two-rank checkpoint also resumes on one process
(reseeded, with a warning). And `hierspeech-nb train` under torchrun: each rank preprocesses its own shard."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from conftest import DATA_SAMPLES, REPO

WORKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import torch
    from torch.utils.data import DataLoader
    from hierspeech_nb.audio import HOP_LENGTH, linear_spectrogram, mel_spectrogram
    from hierspeech_nb.config import tiny_config
    from hierspeech_nb.batches import LengthBucketSampler, collate
    from hierspeech_nb.discriminators import DiscriminatorConfig
    from hierspeech_nb.synthesizer_training import SynthesizerTask
    from hierspeech_nb.training import Trainer, TrainerOptions, cleanup_distributed

    out, max_steps, resume = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "resume"
    config = tiny_config("synthesizer")
    config.train.segment_size = 8 * HOP_LENGTH
    config.train.extra["discriminator"] = DiscriminatorConfig.tiny().to_dict()
    options = TrainerOptions(out_dir=out, max_steps=max_steps, log_every=1, save_every=100, precision="fp32",
                             tensorboard=False, progress=False, seed=0)
    trainer = Trainer(SynthesizerTask(config), options, device="cpu")    # joins the gloo group under torchrun
    if resume:
        trainer.resume(out)
        torch.save({"trainer": trainer.rng.get_state(), "torch": torch.get_rng_state(),
                    "batch_in_epoch": trainer.batch_in_epoch}, out / f"resumed{trainer.rank}.pt")
    generator = torch.Generator().manual_seed(0)
    items = []
    for index in range(6):
        audio = torch.randn(1, 24 * HOP_LENGTH, generator=generator) * 0.1
        items.append({"audio": audio, "linear": linear_spectrogram(audio[0]), "mel": mel_spectrogram(audio[0]),
                      "w2v": torch.randn(1024, 24, generator=generator),
                      "log_f0": torch.rand(1, 96, generator=generator) * 5, "length": 24, "speaker": "s",
                      "path": str(index)})
    sampler = LengthBucketSampler([24] * 6, 1, seed=0, num_replicas=trainer.world_size, rank=trainer.rank)
    trainer.fit(DataLoader(items, batch_sampler=sampler, collate_fn=collate))
    torch.save({"generator": trainer.generator.state_dict(), "discriminator": trainer.discriminator.state_dict()},
               out / f"final{trainer.rank}.pt")
    cleanup_distributed()
""")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run_worker(tmp_path: Path, out: Path, steps: int, mode: str, processes: int = 2) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc_per_node",
                 str(processes)] if processes > 1 else [sys.executable])
    env = ENV if processes > 1 else {k: v for k, v in ENV.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    result = subprocess.run(launcher + [str(script), str(out), str(steps), mode], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "Run A: 4 steps straight on 2 ranks (3 batches per rank per epoch). Run B: 2 steps, then resumed to 4."
    tmp_path = tmp_path_factory.mktemp("ddp")
    straight, halves = tmp_path / "straight", tmp_path / "halves"
    run_worker(tmp_path, straight, 4, "new")
    run_worker(tmp_path, halves, 2, "new")
    saved = torch.load(halves / "checkpoints" / "step_00000002.pt", weights_only=True)
    run_worker(tmp_path, halves, 4, "resume")
    return tmp_path, straight, halves, saved


def test_resumed_two_rank_run_matches_an_uninterrupted_one(runs):
    _, straight, halves, _ = runs
    for rank in (0, 1):
        a, b = (torch.load(folder / f"final{rank}.pt", weights_only=True) for folder in (straight, halves))
        for part in ("generator", "discriminator"):
            for name, value in a[part].items():
                assert torch.equal(value, b[part][name]), f"rank {rank}: {part}.{name} differs after resume"


def test_each_rank_gets_its_own_random_states_back(runs):
    _, _, halves, saved = runs
    assert saved["world_size"] == 2 and len(saved["rng"]) == 2
    assert not torch.equal(saved["rng"][0]["trainer"], saved["rng"][1]["trainer"])    # the ranks differ
    for rank in (0, 1):
        resumed = torch.load(halves / f"resumed{rank}.pt", weights_only=True)
        assert torch.equal(resumed["trainer"], saved["rng"][rank]["trainer"])
        assert torch.equal(resumed["torch"], saved["rng"][rank]["global"]["torch"])
        assert "cuda" not in saved["rng"][rank]["global"]                  # a CPU run saves no GPU state


def test_two_rank_checkpoint_resumes_on_one_process(runs):
    tmp_path, _, halves, _ = runs
    one = tmp_path / "one"
    (one / "checkpoints").mkdir(parents=True)
    (one / "checkpoints" / "step_00000002.pt").write_bytes((halves / "checkpoints" / "step_00000002.pt").read_bytes())
    result = run_worker(tmp_path, one, 4, "resume", processes=1)
    assert "2 ranks saved them, 1 resume" in result.stderr and "reseeded" in result.stderr
    assert torch.load(one / "resumed0.pt", weights_only=True)["batch_in_epoch"] == 4   # 2 batches x 2 ranks
    state = torch.load(one / "checkpoints" / "step_00000004.pt", weights_only=True)
    assert state["step"] == 4 and state["world_size"] == 1 and len(state["rng"]) == 1


def test_train_command_preprocesses_one_shard_per_rank(tmp_path):
    filelist = tmp_path / "train.txt"
    filelist.write_text("\n".join((DATA_SAMPLES / "filelist.txt").read_text().splitlines()[:2]) + "\n")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc_per_node", "2",
               "-m", "hierspeech_nb.cli", "train", "synthesizer", "--config", "tiny", "--filelist", str(filelist),
               "--root", str(REPO), "--out", str(tmp_path / "run"), "--steps", "1", "--batch-size", "1",
               "--max-frames", "24", "--mms", "tiny", "--f0-method", "dio", "--no-progress", "--no-tensorboard",
               "--device", "cpu"]
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for rank in (0, 1):
        assert f"preprocessing shard {rank}/2" in result.stderr
    assert "2 utterances: 2 computed, 0 already cached" in result.stderr   # both shards, seen by every rank
    assert len(list((tmp_path / "run" / "cache").rglob("*.pt"))) == 2
    assert (tmp_path / "run" / "checkpoints" / "step_00000001.pt").is_file()
