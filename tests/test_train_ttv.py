"""Training the TTV on the shared trainer (notebooks 13, 15, 20): exact resume of `TTVTask`, and
`hierspeech-nb train ttv` from the shell."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from conftest import DATA_SAMPLES, REPO
from hierspeech_nb.audio import HOP_LENGTH
from hierspeech_nb.cli import EXIT_BAD_INPUT, EXIT_OK, main
from hierspeech_nb.config import tiny_config
from hierspeech_nb.batches import STREAM_RATES, LengthBucketSampler, collate
from hierspeech_nb.text import NUM_SYMBOLS, intersperse
from hierspeech_nb.training import Trainer, TrainerOptions
from hierspeech_nb.ttv import PITCH_SEGMENT_FRAMES
from hierspeech_nb.ttv_training import TTVTask, ctc_targets
from test_training import assert_same_weights   # the training issue's helper

COMMAND = Path(sys.executable).parent / "hierspeech-nb"
WIDTH = 16                                        # MMS, pitch predictor and style encoder width of the test model
FRAMES = (PITCH_SEGMENT_FRAMES + 4, PITCH_SEGMENT_FRAMES + 10, PITCH_SEGMENT_FRAMES + 4, PITCH_SEGMENT_FRAMES + 7)


def ttv_items() -> list[dict]:
    "Random, correctly shaped dataset items with phoneme ids (blanks interspersed), as SpeechDataset gives."
    generator = torch.Generator().manual_seed(0)
    channels = {"audio": 1, "linear": 641, "mel": 80, "w2v": WIDTH, "log_f0": 1}
    items = []
    for index, frames in enumerate(FRAMES):
        item = {key: torch.randn(channels[key], rate * frames, generator=generator) for key, rate in STREAM_RATES.items()}
        item["log_f0"] = torch.rand(1, STREAM_RATES["log_f0"] * frames, generator=generator) * 5
        phonemes = torch.randint(1, NUM_SYMBOLS, (8 + index,), generator=generator).tolist()
        item.update(length=frames, speaker="s", path=f"item{index}", text_ids=torch.tensor(intersperse(phonemes)))
        items.append(item)
    return items


def ttv_loader() -> DataLoader:
    "Four items in length-bucketed batches of 2: 2 steps per epoch."
    return DataLoader(ttv_items(), batch_sampler=LengthBucketSampler(list(FRAMES), 2, shuffle=True, seed=0),
                      collate_fn=collate)


def ttv_trainer(out_dir, max_steps: int) -> Trainer:
    config = tiny_config("ttv")
    task = TTVTask(config, model_kwargs=dict(w2v_channels=WIDTH, pitch_channels=WIDTH, style_hidden_channels=WIDTH))
    options = TrainerOptions(out_dir=out_dir, max_steps=max_steps, log_every=1, save_every=1, precision="fp32",
                             tensorboard=False, progress=False, seed=0)
    return Trainer(task, options)


def test_ctc_targets_drop_the_blanks():
    batch = collate(ttv_items()[:2])
    text, lengths = ctc_targets(batch["text_ids"], batch["text_lengths"])
    assert lengths.tolist() == [8, 9]
    assert text[0, :8].tolist() == batch["text_ids"][0, 1:17:2].tolist() and bool((text[0, 8:] == 0).all())


def test_ttv_resume_is_exact(tmp_path):
    straight = ttv_trainer(tmp_path / "straight", 5)
    straight.fit(ttv_loader())
    ttv_trainer(tmp_path / "halves", 3).fit(ttv_loader())
    resumed = ttv_trainer(tmp_path / "halves", 5)
    resumed.resume(tmp_path / "halves")
    assert (resumed.step, resumed.epoch, resumed.batch_in_epoch) == (3, 1, 1)   # mid-epoch, after an epoch ended
    resumed.fit(ttv_loader())
    assert straight.discriminator is None and resumed.discriminator is None
    assert_same_weights(straight.generator, resumed.generator)
    drop_timing = lambda record: {k: v for k, v in record.items() if k != "steps_per_second"}
    assert drop_timing(straight.history[-1]) == drop_timing(resumed.history[-1])
    assert {"g/w2v", "g/kl", "g/f0", "g/dur", "g/ctc", "g/total"} <= set(straight.history[-1])


def test_train_ttv_from_the_shell(tmp_path):
    lines = (DATA_SAMPLES / "filelist.txt").read_text().splitlines()
    filelist = tmp_path / "train.txt"
    filelist.write_text("\n".join(lines[:2]) + "\n")                      # two short clips of one speaker
    out = tmp_path / "run"
    arguments = [str(COMMAND), "train", "ttv", "--config", "tiny", "--filelist", str(filelist), "--root", str(REPO),
                 "--out", str(out), "--mms", "tiny", "--steps", "2", "--save-every", "1", "--keep-last", "2",
                 "--log-every", "1", "--no-progress", "--no-tensorboard", "--device", "cpu"]
    result = subprocess.run(arguments, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == EXIT_OK, result.stderr[-3000:]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_00000001.pt", "step_00000002.pt"]
    state = torch.load(out / "checkpoints" / "step_00000002.pt", weights_only=True)
    assert state["step"] == 2 and state["discriminator"] is None and "enc_p.emb.weight" in state["generator"]
    assert "discriminator" not in json.loads((out / "config.json").read_text())["train"]
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2] and all("g/ctc" in r for r in records)


def test_train_ttv_refuses_cropping(tmp_path):
    code = main(["train", "ttv", "--config", "tiny", "--filelist", str(DATA_SAMPLES / "filelist.txt"),
                 "--out", str(tmp_path / "run"), "--max-frames", "32"])
    assert code == EXIT_BAD_INPUT
    assert not (tmp_path / "run").exists()                                 # nothing started
