"""The training loop's promises (notebook 13): exact resume, NaN stop, atomic saves, pruning, strict fine-tune
init and Ctrl-C. A toy GAN task checks the loop in milliseconds; the tiny synthesizer checks the real task."""
from __future__ import annotations

import signal

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from hierspeech_nb.audio import HOP_LENGTH, linear_spectrogram, mel_spectrogram
from hierspeech_nb.config import SynthesizerConfig, TrainConfig, tiny_config
from hierspeech_nb.batches import LengthBucketSampler, collate
from hierspeech_nb.discriminators import DiscriminatorConfig
from hierspeech_nb.synthesizer_training import SynthesizerTask
from hierspeech_nb.training import (GANTask, NonFiniteLossError, Trainer, TrainerOptions, checkpoint_paths,
                                    latest_checkpoint)


class ToyTask(GANTask):
    "A conv generator that should copy its input, a conv critic; dropout draws from the global RNG."

    def __init__(self, nan_at: int | None = None, interrupt_at: int | None = None):
        self.train, self.config = TrainConfig(learning_rate=1e-2, lr_decay=0.9), SynthesizerConfig()
        self.nan_at, self.interrupt_at, self.calls = nan_at, interrupt_at, 0

    def build_generator(self):
        return nn.Sequential(nn.Conv1d(1, 4, 3, padding=1), nn.Dropout(0.2), nn.Conv1d(4, 1, 3, padding=1))

    def build_discriminator(self):
        return nn.Conv1d(1, 1, 5)

    def forward(self, model, batch, generator):
        noise = torch.randn(batch["audio"].shape, generator=generator) * 0.01
        return {"fake": model(batch["audio"] + noise), "real": batch["audio"]}

    def generator_losses(self, output, discriminator):
        self.calls += 1
        if self.interrupt_at == self.calls:
            signal.raise_signal(signal.SIGINT)          # as if the user pressed Ctrl-C during this step
        l1 = (output["fake"] - output["real"]).abs().mean()
        if self.nan_at is not None and self.calls >= self.nan_at:
            l1 = l1 * float("nan")
        return {"mel": l1, "total": 10 * l1 + ((1 - discriminator(output["fake"])) ** 2).mean()}

    def discriminator_losses(self, output, discriminator):
        return {"total": ((1 - discriminator(output["real"])) ** 2).mean()
                + (discriminator(output["fake"].detach()) ** 2).mean()}


def toy_loader() -> DataLoader:
    "16 clips in length-bucketed batches of 4: 4 steps per epoch."
    clips = [{"audio": torch.randn(1, 64, generator=torch.Generator().manual_seed(i))} for i in range(16)]
    sampler = LengthBucketSampler([64] * 16, 4, shuffle=True, seed=0)
    return DataLoader(clips, batch_sampler=sampler,
                      collate_fn=lambda items: {"audio": torch.stack([item["audio"] for item in items])})


def toy_trainer(out_dir, max_steps, save_every=3, keep_last=2, **task_kwargs) -> Trainer:
    options = TrainerOptions(out_dir=out_dir, max_steps=max_steps, log_every=1, save_every=save_every,
                             keep_last=keep_last, tensorboard=False, progress=False, seed=0)
    return Trainer(ToyTask(**task_kwargs), options)


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), f"{name} differs"


def test_resume_is_exact_across_epochs(tmp_path):
    straight = toy_trainer(tmp_path / "straight", 10)
    straight.fit(toy_loader())
    first = toy_trainer(tmp_path / "halves", 5)
    first.fit(toy_loader())
    second = toy_trainer(tmp_path / "halves", 10)
    second.resume(tmp_path / "halves")                  # a run folder: its newest checkpoint
    assert (second.step, second.epoch, second.batch_in_epoch) == (5, 1, 1)
    second.fit(toy_loader())
    assert_same_weights(straight.generator, second.generator)
    assert_same_weights(straight.discriminator, second.discriminator)
    for name in ("generator", "discriminator"):
        assert straight.optimizers[name].param_groups[0]["lr"] == second.optimizers[name].param_groups[0]["lr"]
    drop_timing = lambda record: {k: v for k, v in record.items() if k != "steps_per_second"}
    assert drop_timing(straight.history[-1]) == drop_timing(second.history[-1])


def test_rng_states_are_per_device_and_old_checkpoints_resume(tmp_path):
    from hierspeech_nb.training import _rng_state, _set_rng_state
    assert "cuda" not in _rng_state("cpu")                   # a CPU process saves no GPU state
    state = {**_rng_state("cpu"), "cuda": [torch.zeros(16, dtype=torch.uint8)] * 8}   # the old all-GPUs list
    expected = torch.rand(3)
    _set_rng_state(state, "cpu")                             # loads on a machine without those 8 GPUs
    assert torch.equal(torch.rand(3), expected)
    first = toy_trainer(tmp_path, 3)
    first.fit(toy_loader())
    saved = torch.load(latest_checkpoint(tmp_path), weights_only=True)
    assert saved["world_size"] == 1 and len(saved["rng"]) == 1
    old = {**saved, "rng": saved["rng"][0]["global"], "trainer_rng": saved["rng"][0]["trainer"]}   # one-rank layout
    torch.save(old, tmp_path / "old.pt")
    resumed = toy_trainer(tmp_path / "again", 3)
    resumed.resume(tmp_path / "old.pt")
    assert torch.equal(resumed.rng.get_state(), saved["rng"][0]["trainer"])
    assert torch.equal(torch.get_rng_state(), saved["rng"][0]["global"]["torch"])


def test_resume_checks_what_it_loads(tmp_path):
    trainer = toy_trainer(tmp_path / "run", 1)
    with pytest.raises(FileNotFoundError, match="no checkpoints"):
        trainer.resume(tmp_path)
    torch.save({"weights": torch.zeros(1)}, tmp_path / "released.pt")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        trainer.resume(tmp_path / "released.pt")


def test_last_n_checkpoints_are_kept(tmp_path):
    toy_trainer(tmp_path, 7, save_every=1, keep_last=3).fit(toy_loader())
    assert [p.name for p in checkpoint_paths(tmp_path)] == [f"step_{s:08d}.pt" for s in (5, 6, 7)]
    state = torch.load(latest_checkpoint(tmp_path), weights_only=True)     # tensors and plain values only
    assert state["step"] == 7 and set(state["optimizers"]) == {"generator", "discriminator"}


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    trainer = toy_trainer(tmp_path, 10, save_every=2, nan_at=6)
    with pytest.raises(NonFiniteLossError, match="step 6: generator loss is not finite.*step_00000004.pt"):
        trainer.fit(toy_loader())
    assert [p.name for p in checkpoint_paths(tmp_path)] == ["step_00000002.pt", "step_00000004.pt"]
    assert trainer.step == 5
    good = torch.load(tmp_path / "checkpoints" / "step_00000004.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in good["generator"].values())
    assert all(torch.isfinite(p).all() for p in trainer.generator.parameters())   # never stepped on the NaN


def test_atomic_save_leaves_no_partial_file(tmp_path, monkeypatch):
    trainer = toy_trainer(tmp_path, 2, save_every=1)
    trainer.fit(toy_loader())
    before = (tmp_path / "checkpoints" / "step_00000002.pt").read_bytes()

    def crash(content, file, *args, **kwargs):           # writes half a file, then the disk "fails"
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    trainer.step = 3
    with pytest.raises(OSError, match="disk full"):
        trainer.save_checkpoint()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_00000001.pt", "step_00000002.pt"]
    assert (tmp_path / "checkpoints" / "step_00000002.pt").read_bytes() == before


def test_ctrl_c_saves_then_stops(tmp_path):
    trainer = toy_trainer(tmp_path, 10, save_every=100, interrupt_at=3)
    with pytest.raises(KeyboardInterrupt, match="interrupted at step 3"):
        trainer.fit(toy_loader())
    assert [p.name for p in checkpoint_paths(tmp_path)] == ["step_00000003.pt"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler    # the handler is put back


# --- the real task: the tiny synthesizer on random, correctly shaped utterances ---
def synthesizer_items(num_items: int, frames: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    items = []
    for index in range(num_items):
        audio = torch.randn(1, frames * HOP_LENGTH, generator=generator) * 0.1
        items.append({"audio": audio, "linear": linear_spectrogram(audio[0]), "mel": mel_spectrogram(audio[0]),
                      "w2v": torch.randn(1024, frames, generator=generator),
                      "log_f0": torch.rand(1, 4 * frames, generator=generator) * 5, "length": frames,
                      "speaker": "s", "path": f"item{index}"})
    return items


def synthesizer_trainer(out_dir, max_steps: int, init=None) -> Trainer:
    config = tiny_config("synthesizer")
    config.train.segment_size = 8 * HOP_LENGTH
    config.train.extra["discriminator"] = DiscriminatorConfig.tiny().to_dict()
    options = TrainerOptions(out_dir=out_dir, max_steps=max_steps, log_every=1, save_every=1, precision="fp32",
                             tensorboard=False, progress=False, seed=0)
    return Trainer(SynthesizerTask(config), options, init_checkpoint=init)


def synthesizer_loader() -> DataLoader:
    items = synthesizer_items(2, 24)
    return DataLoader(items, batch_sampler=LengthBucketSampler([24, 24], 1, seed=0), collate_fn=collate)


@pytest.fixture()
def one_thread():
    """Bitwise equality needs deterministic kernels: on some CPUs (seen on an Intel Xeon with AVX-512) oneDNN's
    multi-threaded convolution gradients sum in a varying order, so two identical 2-thread runs already differ in the
    last bits. One thread makes the kernels deterministic, so the test sees only what the trainer restores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_synthesizer_resume_is_exact(tmp_path, one_thread):
    straight = synthesizer_trainer(tmp_path / "straight", 2)
    straight.fit(synthesizer_loader())
    synthesizer_trainer(tmp_path / "halves", 1).fit(synthesizer_loader())
    resumed = synthesizer_trainer(tmp_path / "halves", 2)
    resumed.resume(tmp_path / "halves")
    resumed.fit(synthesizer_loader())
    assert_same_weights(straight.generator, resumed.generator)
    assert_same_weights(straight.discriminator, resumed.discriminator)
    assert {"g/mel", "g/adversarial", "g/feature_matching", "d/total"} <= set(straight.history[-1])


def test_fine_tune_init_is_strict(tmp_path):
    source = synthesizer_trainer(tmp_path / "a", 1).generator
    torch.save({"model": source.state_dict()}, tmp_path / "released.pth")   # the official container
    fine_tune = synthesizer_trainer(tmp_path / "b", 1, init=tmp_path / "released.pth")
    assert_same_weights(source, fine_tune.generator)
    broken = {k: v for k, v in source.state_dict().items() if not k.startswith("emb.")}
    torch.save({"model": broken}, tmp_path / "broken.pth")
    with pytest.raises(ValueError, match="missing"):
        synthesizer_trainer(tmp_path / "c", 1, init=tmp_path / "broken.pth")


def test_trainer_methods_are_defined_in_class_bodies():
    "Every Trainer method lives in a class body (no functions attached afterwards), so IDEs and type checkers see it."
    import inspect
    classes = {cls.__qualname__ for cls in Trainer.__mro__}
    for name in ("state", "save_checkpoint", "resume", "train_step", "log_scalars", "evaluate", "fit",
                 "load_generator_weights", "_check_finite", "_optimizer_step", "_get_writer", "_any_rank"):
        method = inspect.getattr_static(Trainer, name)
        owner = method.__qualname__.rsplit(".", 1)[0]
        assert owner in classes and method.__name__ == name, f"Trainer.{name} is {method.__qualname__}"


def test_logged_means_equal_the_per_step_losses(tmp_path):
    "fit keeps the losses as tensors between logs; the logged means are those of the per-step floats."
    every_step = toy_trainer(tmp_path / "a", 6)
    every_step.fit(toy_loader())
    options = TrainerOptions(out_dir=tmp_path / "b", max_steps=6, log_every=3, save_every=100, tensorboard=False,
                             progress=False, seed=0)
    every_third = Trainer(ToyTask(), options)
    every_third.fit(toy_loader())
    assert [record["step"] for record in every_third.history] == [3, 6]
    for record, steps in zip(every_third.history, (every_step.history[:3], every_step.history[3:])):
        for name in ("g/total", "g/mel", "d/total", "grad_norm/generator", "grad_norm/discriminator"):
            assert record[name] == sum(step[name] for step in steps) / 3, name


def test_train_step_returns_floats(tmp_path):
    trainer = toy_trainer(tmp_path, 1)
    logs = trainer.train_step(next(iter(toy_loader())))
    assert logs and all(type(value) is float for value in logs.values())


def test_checkpoint_of_a_gpu_run_resumes_on_the_cpu(tmp_path, caplog):
    "A CUDA generator's state (16 bytes) cannot go into a CPU generator: reseeded from (seed, step, rank), warned."
    toy_trainer(tmp_path, 3).fit(toy_loader())
    saved = torch.load(latest_checkpoint(tmp_path), weights_only=True)
    saved["rng"][0]["trainer"] = torch.zeros(16, dtype=torch.uint8)        # what a CUDA generator saves
    saved["rng"][0]["global"]["cuda"] = torch.zeros(16, dtype=torch.uint8)
    torch.save(saved, tmp_path / "gpu.pt")
    states = []
    for attempt in range(2):
        trainer = toy_trainer(tmp_path / f"cpu{attempt}", 4)
        with caplog.at_level("WARNING"):
            trainer.resume(tmp_path / "gpu.pt")
        states.append(trainer.rng.get_state())
        trainer.fit(toy_loader())
        assert trainer.step == 4
    assert "saved on another kind of device" in caplog.text and "rank 0 reseeded" in caplog.text
    assert torch.equal(states[0], states[1])                                # the reseed is reproducible
