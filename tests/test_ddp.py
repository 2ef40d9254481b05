"""Multi-process training through torchrun + DistributedDataParallel (gloo on CPU): after a few steps on
different batches, both ranks must hold identical weights (gradients were averaged), different from the start."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import torch

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

    out = Path(sys.argv[1])
    config = tiny_config("synthesizer")
    config.train.segment_size = 8 * HOP_LENGTH
    config.train.extra["discriminator"] = DiscriminatorConfig.tiny().to_dict()
    options = TrainerOptions(out_dir=out, max_steps=2, log_every=1, save_every=100, precision="fp32",
                             tensorboard=False, progress=False, seed=0)
    trainer = Trainer(SynthesizerTask(config), options, device="cpu")    # joins the gloo group
    torch.save(trainer.generator.state_dict(), out / f"initial{trainer.rank}.pt")
    generator = torch.Generator().manual_seed(0)
    items = []
    for index in range(4):
        audio = torch.randn(1, 24 * HOP_LENGTH, generator=generator) * 0.1
        items.append({"audio": audio, "linear": linear_spectrogram(audio[0]), "mel": mel_spectrogram(audio[0]),
                      "w2v": torch.randn(1024, 24, generator=generator),
                      "log_f0": torch.rand(1, 96, generator=generator) * 5, "length": 24, "speaker": "s",
                      "path": str(index)})
    sampler = LengthBucketSampler([24] * 4, 1, seed=0, num_replicas=trainer.world_size, rank=trainer.rank)
    trainer.fit(DataLoader(items, batch_sampler=sampler, collate_fn=collate))
    torch.save({"generator": trainer.generator.state_dict(), "discriminator": trainer.discriminator.state_dict(),
                "world_size": trainer.world_size, "first_batch": next(iter(sampler))},
               out / f"rank{trainer.rank}.pt")
    cleanup_distributed()
""")


def test_two_gloo_ranks_hold_identical_weights(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
               "--nproc_per_node", "2", str(script), str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert ranks[0]["first_batch"] != ranks[1]["first_batch"]            # each rank saw different data
    for part in ("generator", "discriminator"):
        for name, value in ranks[0][part].items():
            assert torch.equal(value, ranks[1][part][name]), f"{part}.{name} differs between ranks"
    initial = torch.load(tmp_path / "initial0.pt", weights_only=True)
    assert torch.equal(initial["emb.weight"], torch.load(tmp_path / "initial1.pt", weights_only=True)["emb.weight"])
    changed = [name for name, value in initial.items() if not torch.equal(value, ranks[0]["generator"][name])]
    assert len(changed) > len(initial) // 2                              # the ranks trained, not just agreed
