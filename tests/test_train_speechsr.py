"""SpeechSR training on the shared trainer (notebook 16): the tiny 48 kHz model's mel loss falls on the 48 kHz
samples, and a resumed run ends with exactly the weights of an uninterrupted one."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from hierspeech_nb.config import load_config
from hierspeech_nb.batches import LengthBucketSampler
from hierspeech_nb.discriminators import DiscriminatorConfig
from hierspeech_nb.speechsr_training import HighRateClips, SpeechSRTask, collate_clips
from hierspeech_nb.training import Trainer, TrainerOptions

ROOT = Path(__file__).resolve().parents[1]
SEGMENT = 2400          # 50 ms at 48 kHz: a multiple of 3 and longer than the largest MS-STFT window (2048)
BATCH_SIZE = 2
CROPS_PER_CLIP = 2      # 4 clips x 2 crops in batches of 2: 4 steps per epoch


def clip_paths() -> list[Path]:
    lines = (ROOT / "data_samples" / "filelist_48k.txt").read_text().splitlines()
    return [ROOT / line.split("|")[0] for line in lines if line.strip()]


def sr_loader() -> DataLoader:
    clips = HighRateClips(clip_paths(), 48_000, SEGMENT, crops_per_clip=CROPS_PER_CLIP)
    sampler = LengthBucketSampler([SEGMENT] * len(clips), BATCH_SIZE, seed=0)
    return DataLoader(clips, batch_sampler=sampler, collate_fn=collate_clips)


def sr_trainer(out_dir, max_steps: int) -> Trainer:
    config = load_config("speechsr48k", "tiny")
    config.train.segment_size, config.train.learning_rate = SEGMENT, 1e-3
    config.train.extra["discriminator"] = DiscriminatorConfig.tiny().to_dict()
    options = TrainerOptions(out_dir=out_dir, max_steps=max_steps, log_every=1, save_every=max_steps,
                             precision="fp32", tensorboard=False, progress=False, seed=0)
    return Trainer(SpeechSRTask(config), options)


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), f"{name} differs"


def test_mel_loss_falls(tmp_path):
    held_out = HighRateClips(clip_paths(), 48_000, SEGMENT, seed=99)
    eval_batches = [collate_clips([held_out[i] for i in range(len(held_out))])]
    trainer = sr_trainer(tmp_path, 8)
    before = trainer.evaluate(eval_batches)["eval/mel_l1"]
    history = trainer.fit(sr_loader())
    after = trainer.evaluate(eval_batches)["eval/mel_l1"]
    assert after < 0.8 * before, f"held-out mel L1 {before:.3f} -> {after:.3f} after 8 steps"
    train_records = [record for record in history if "g/mel" in record]   # the history also holds eval records
    assert len(train_records) == 8
    assert {"g/mel", "g/adversarial", "g/feature_matching", "d/total"} <= set(train_records[-1])
    assert trainer.discriminator is not None and len(trainer.discriminator.discriminators) == 10   # 5 STFT + 5 MPD


def test_resume_is_exact(tmp_path):
    straight = sr_trainer(tmp_path / "straight", 6)                # crosses the epoch boundary at step 4
    straight.fit(sr_loader())
    sr_trainer(tmp_path / "halves", 3).fit(sr_loader())
    resumed = sr_trainer(tmp_path / "halves", 6)
    resumed.resume(tmp_path / "halves")
    assert (resumed.step, resumed.epoch, resumed.batch_in_epoch) == (3, 0, 3)   # mid-epoch
    resumed.fit(sr_loader())
    assert_same_weights(straight.generator, resumed.generator)
    assert_same_weights(straight.discriminator, resumed.discriminator)


def test_crops_are_checked():
    with pytest.raises(ValueError, match="fewer than segment"):
        HighRateClips(clip_paths(), 48_000, 10**6)
    with pytest.raises(ValueError, match="paths is empty"):
        HighRateClips([], 48_000, SEGMENT)
