"""`download_checkpoints` (notebook 10b) and `hierspeech-nb download` (notebook 20) with a local folder standing in
for the authors' Hugging Face Space: the layout `find_checkpoints` reads, strict checks that refuse bad files
without leaving them behind, files already there kept, and the offline message. Nothing here touches the network:
the only hub call runs with HF_HUB_OFFLINE=1."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hierspeech_nb.cli import EXIT_BAD_INPUT, EXIT_OK, main
from hierspeech_nb.inference import RELEASED_CHECKPOINTS, find_checkpoints
from hierspeech_nb.models import PARTIAL_PREFIX, RELEASED_FILES, download_checkpoints
from hierspeech_nb.speechsr import RELEASED_SPEECHSR_DIR, RELEASED_SPEECHSR_FILES

SPEECHSR = ("speechsr24k", "speechsr48k")


def _tree(folder: Path) -> list[str]:
    "Every file under `folder`, relative, sorted."
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def stand_in(tmp_path) -> Path:
    "A local folder with the Space's layout holding the two bundled SpeechSR files (and their config.json)."
    folder = tmp_path / "space"
    for name in SPEECHSR:
        shutil.copytree(RELEASED_SPEECHSR_DIR / name, folder / name)
    return folder


def test_file_names_are_the_released_ones():
    assert {name: Path(path).name for name, path in RELEASED_FILES.items()} == RELEASED_CHECKPOINTS
    # the SpeechSR paths are those of the files that ship with the package, i.e. of the official repository
    assert {name: path for name, path in RELEASED_SPEECHSR_FILES.values()} == {n: RELEASED_FILES[n] for n in SPEECHSR}


def test_layout_is_what_find_checkpoints_reads(stand_in, tmp_path):
    ckpt_dir = tmp_path / "checkpoints"
    paths = download_checkpoints(ckpt_dir, repo_id=stand_in, names=SPEECHSR, progress=False)
    assert paths == find_checkpoints(ckpt_dir, list(SPEECHSR))
    assert {name: path.relative_to(ckpt_dir).as_posix() for name, path in paths.items()} == {
        name: RELEASED_FILES[name] for name in SPEECHSR}
    assert _tree(ckpt_dir) == _tree(stand_in)              # config.json travels with each file; no staging left
    for name in SPEECHSR:
        assert paths[name].read_bytes() == (stand_in / RELEASED_FILES[name]).read_bytes()


def test_present_files_are_not_fetched_again(stand_in, tmp_path, caplog):
    ckpt_dir = tmp_path / "checkpoints"
    download_checkpoints(ckpt_dir, repo_id=stand_in, names=SPEECHSR, progress=False)
    shutil.rmtree(stand_in / "speechsr24k")                # a second fetch of it would now fail
    caplog.set_level("INFO", logger="hierspeech_nb.models")
    paths = download_checkpoints(ckpt_dir, repo_id=stand_in, names=SPEECHSR, progress=False)
    assert paths == find_checkpoints(ckpt_dir, list(SPEECHSR))
    assert "already there, not downloaded again" in caplog.text


def test_a_file_anywhere_below_counts_as_present(stand_in, tmp_path):
    ckpt_dir = tmp_path / "checkpoints"
    (ckpt_dir / "mine").mkdir(parents=True)
    shutil.copy(stand_in / RELEASED_FILES["speechsr48k"], ckpt_dir / "mine" / "G_100000.pth")
    shutil.rmtree(stand_in / "speechsr48k")
    paths = download_checkpoints(ckpt_dir, repo_id=stand_in, names=["speechsr48k"], progress=False)
    assert paths["speechsr48k"] == ckpt_dir / "mine" / "G_100000.pth"


def test_a_corrupt_present_file_is_replaced(stand_in, tmp_path, caplog):
    ckpt_dir = tmp_path / "checkpoints"
    target = ckpt_dir / RELEASED_FILES["speechsr24k"]
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not a checkpoint")                 # e.g. a transfer cut by another tool
    download_checkpoints(ckpt_dir, repo_id=stand_in, names=["speechsr24k"], progress=False)
    assert target.read_bytes() == (stand_in / RELEASED_FILES["speechsr24k"]).read_bytes()
    assert "(already there) is not a good speechsr24k checkpoint" in caplog.text


@pytest.mark.parametrize("name, content", [
    ("synthesizer", b"\x00" * 1000),                                    # not a PyTorch file: torch.load refuses it
    ("ttv", "truncated"),                                               # the first 100 kB of a real checkpoint
    ("denoiser", {"generator": {"conv.weight": torch.zeros(3)}}),      # a state dict with the wrong keys
])
def test_a_bad_file_is_refused_and_not_left_behind(stand_in, tmp_path, name, content):
    path = stand_in / RELEASED_FILES[name]
    path.parent.mkdir(parents=True)
    if content == "truncated":
        path.write_bytes((stand_in / RELEASED_FILES["speechsr48k"]).read_bytes()[:100_000])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    ckpt_dir = tmp_path / "checkpoints"
    with pytest.raises(ValueError, match=rf"{RELEASED_FILES[name]} from .* is not a good {name} checkpoint and was "
                                         r"not kept: .*Fix: download it again"):
        download_checkpoints(ckpt_dir, repo_id=stand_in, names=[name], progress=False)
    assert _tree(ckpt_dir) == []                            # neither the file nor a staging folder
    assert not any(p.name.startswith(PARTIAL_PREFIX) for p in ckpt_dir.iterdir())


def test_no_verify_keeps_what_it_gets(stand_in, tmp_path):
    path = stand_in / RELEASED_FILES["denoiser"]
    path.parent.mkdir(parents=True)
    path.write_bytes(b"anything")
    paths = download_checkpoints(tmp_path / "c", repo_id=stand_in, names=["denoiser"], verify=False, progress=False)
    assert paths["denoiser"].read_bytes() == b"anything"


def test_a_missing_file_is_named(stand_in, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"has no logs/ttv_libritts_v1/ttv_lt960_ckpt.pth \(the ttv "
                                                r"checkpoint\); choose the models it holds"):
        download_checkpoints(tmp_path / "c", repo_id=stand_in, names=["speechsr24k", "ttv"], progress=False)


def test_bad_arguments(stand_in, tmp_path):
    with pytest.raises(ValueError, match=r"unknown model names \['vocoder'\]; choose from synthesizer, ttv"):
        download_checkpoints(tmp_path, repo_id=stand_in, names=["vocoder"])
    with pytest.raises(ValueError, match=r"repo_type='dataset' is not one of space, model"):
        download_checkpoints(tmp_path, repo_id=stand_in, repo_type="dataset")
    with pytest.raises(FileNotFoundError, match="neither an existing folder nor a hub id"):
        download_checkpoints(tmp_path, repo_id=str(tmp_path / "no" / "such" / "folder"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file; pass a folder"):
        download_checkpoints(tmp_path / "file", repo_id=stand_in)


def test_the_hub_path_with_a_fake_hub(stand_in, tmp_path, monkeypatch):
    "The hub branch, with hf_hub_download replaced by a copy from the stand-in: same layout, same refusals."
    import huggingface_hub
    from huggingface_hub import errors
    calls = []

    def fake_download(repo_id, filename, *, repo_type, revision, local_dir, tqdm_class=None):
        calls.append((repo_id, filename, repo_type, revision, tqdm_class is not None))   # progress=False: silent bars
        if not (stand_in / filename).is_file():
            raise errors.EntryNotFoundError(f"{filename} not in {repo_id}")
        (Path(local_dir) / filename).parent.mkdir(parents=True, exist_ok=True)
        return shutil.copy(stand_in / filename, Path(local_dir) / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    ckpt_dir = tmp_path / "checkpoints"
    paths = download_checkpoints(ckpt_dir, repo_id="someone/a-space", names=["speechsr48k"], revision="v1",
                                 progress=False)
    assert paths == find_checkpoints(ckpt_dir, ["speechsr48k"])
    assert calls == [("someone/a-space", "speechsr48k/G_100000.pth", "space", "v1", True),
                     ("someone/a-space", "speechsr48k/config.json", "space", "v1", True)]
    assert _tree(ckpt_dir) == ["speechsr48k/G_100000.pth", "speechsr48k/config.json"]
    with pytest.raises(FileNotFoundError, match="someone/a-space has no denoiser/g_best"):
        download_checkpoints(ckpt_dir, repo_id="someone/a-space", repo_type="model", names=["denoiser"])


def _cli(*args: str) -> subprocess.CompletedProcess:
    "The command, offline: HF_HUB_OFFLINE=1 makes huggingface_hub refuse any request."
    return subprocess.run([sys.executable, "-m", "hierspeech_nb.cli", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_offline_says_what_to_run(tmp_path):
    done = _cli("download", "--ckpt-dir", str(tmp_path / "c"), "--repo", "nobody-here/no-such-space", "--only", "ttv",
                "--no-progress")
    assert done.returncode == EXIT_BAD_INPUT, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("hierspeech-nb ERROR: ")]
    assert len(errors) == 1, done.stderr[-3000:]
    assert "could not reach the Hugging Face Hub" in errors[0]
    assert (f"run `hierspeech-nb download --ckpt-dir {tmp_path / 'c'} --repo nobody-here/no-such-space --only ttv`, "
            "then copy that folder here") in errors[0]
    assert "facebook/mms-300m" in errors[0]                 # MMS stays in the Hugging Face cache


def test_cli_lays_out_the_files(tmp_path):
    ckpt_dir = tmp_path / "c"
    assert main(["download", "--ckpt-dir", str(ckpt_dir), "--repo", str(RELEASED_SPEECHSR_DIR), "--only",
                 *SPEECHSR, "--no-progress"]) == EXIT_OK
    assert find_checkpoints(ckpt_dir, list(SPEECHSR)) == {n: ckpt_dir / RELEASED_FILES[n] for n in SPEECHSR}


@pytest.mark.parametrize("args, message", [
    (["--only", "vocoder"], "unknown model names ['vocoder']"),
    (["--repo-type", "dataset"], "repo_type='dataset' is not one of space, model"),
    (["--repo", "./no/such/folder"], "neither an existing folder nor a hub id"),
    (["--only", "denoiser"], "has no denoiser/g_best (the denoiser checkpoint)"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, caplog, args, message):
    code = main(["download", "--ckpt-dir", str(tmp_path / "c"), "--repo", str(RELEASED_SPEECHSR_DIR),
                 "--no-progress", *args])
    assert code == EXIT_BAD_INPUT
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and "\n" not in errors[0] and message in errors[0], errors
