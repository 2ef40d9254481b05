"""Sharded, resumable preprocessing (notebook 12's `preprocess(..., shard=)`, notebook 20's `hierspeech-nb
preprocess`, and the way `train` makes every rank preprocess its own shard): shards cover a filelist exactly once,
a resumed run computes only what is missing, and a bad `--shard` is one line with exit code 2."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA_SAMPLES, REPO
from hierspeech_nb.cli import EXIT_BAD_INPUT, EXIT_OK, CommandError, _parse_shard, main
from hierspeech_nb.data import cache_path, preprocess, read_filelist
from hierspeech_nb.semantic import tiny_mms

COMMAND = Path(sys.executable).parent / "hierspeech-nb"
NUM_CLIPS = 5                    # short clips of data_samples/, F0 by the fast WORLD tracker


@pytest.fixture(scope="module")
def clips():
    return read_filelist(DATA_SAMPLES / "filelist.txt")[:NUM_CLIPS]


@pytest.fixture(scope="module")
def mms():
    return tiny_mms()


def test_shards_cover_the_list_exactly_once(tmp_path, clips, mms):
    written = {}
    for index in range(3):
        before = set(tmp_path.rglob("*.pt"))
        report = preprocess(clips, tmp_path, mms, f0_method="dio", progress=False, shard=(index, 3))
        written[index] = set(tmp_path.rglob("*.pt")) - before
        assert report.computed == len(written[index]) == len(clips[index::3])
        assert written[index] == {cache_path(u, tmp_path) for u in clips[index::3]}
    assert [len(w) for w in written.values()] == [2, 2, 1]
    assert set().union(*written.values()) == {cache_path(u, tmp_path) for u in clips}   # disjoint, complete
    whole = preprocess(clips, tmp_path, mms, f0_method="dio", progress=False)
    assert (whole.computed, whole.cached) == (0, NUM_CLIPS)


def test_resuming_after_a_partial_run_computes_only_the_missing(tmp_path, clips, mms):
    first = preprocess(clips, tmp_path, mms, f0_method="dio", progress=False, shard=(0, 2))
    assert first.computed == 3
    resumed = preprocess(clips, tmp_path, mms, f0_method="dio", progress=False)
    assert (resumed.computed, resumed.cached, resumed.total) == (2, 3, NUM_CLIPS)


@pytest.mark.parametrize("shard", [(2, 2), (-1, 2), (0, 0), (1,), "0/2", (0.0, 1)])
def test_bad_shard_is_refused(tmp_path, clips, mms, shard):
    with pytest.raises(ValueError, match="shard must be"):
        preprocess(clips, tmp_path, mms, progress=False, shard=shard)


def test_shard_from_flag_or_torchrun(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert _parse_shard(None) == (0, 1) and _parse_shard("2/3") == (2, 3)
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert _parse_shard(None) == (3, 4)
    with pytest.raises(CommandError, match="leave --shard out under torchrun"):
        _parse_shard("0/2")


def test_preprocess_command(tmp_path, caplog):
    filelist = tmp_path / "list.txt"
    filelist.write_text("\n".join((DATA_SAMPLES / "filelist.txt").read_text().splitlines()[:3]) + "\n")
    arguments = ["preprocess", "--filelist", str(filelist), "--root", str(REPO), "--cache-dir", str(tmp_path / "c"),
                 "--mms", "tiny", "--f0-method", "dio", "--device", "cpu", "--no-progress"]
    with caplog.at_level(logging.INFO):
        assert main(arguments + ["--shard", "1/2"]) == EXIT_OK
        assert "shard 1/2: 1 utterances: 1 computed, 0 already cached, 0 skipped" in caplog.text
        assert main(arguments) == EXIT_OK                         # the whole list: the rest
        assert "shard 0/1: 3 utterances: 2 computed, 1 already cached, 0 skipped" in caplog.text
    assert len(list((tmp_path / "c").rglob("*.pt"))) == 3


@pytest.mark.parametrize("shard", ["2/2", "a/b", "1", "-1/2"])
def test_bad_shard_flag_is_one_line_and_exit_code_2(tmp_path, shard):
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    result = subprocess.run([str(COMMAND), "preprocess", "--filelist", str(DATA_SAMPLES / "filelist.txt"),
                             "--cache-dir", str(tmp_path), "--mms", "tiny", f"--shard={shard}"],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == EXIT_BAD_INPUT
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hierspeech-nb ERROR: --shard {shard}:"), result.stderr
    assert not any(tmp_path.iterdir())                           # nothing computed


def test_preprocess_shards_without_a_process_group(tmp_path, clips, mms):
    "Outside torchrun there is nobody to wait for: shard 1 of 2 of each list, one report for all lists."
    from hierspeech_nb.data import preprocess_shards
    report = preprocess_shards([clips[:2], clips[2:]], tmp_path, mms, rank=1, world_size=2, f0_method="dio",
                               progress=False)
    assert (report.computed, report.cached, report.total) == (2, 0, 2)      # clips 1 and 3
    assert {p.name for p in tmp_path.rglob("*.pt")} == {cache_path(clips[i], tmp_path).name for i in (1, 3)}
