"""Checks on data_samples/: the filelists point at real, well-formed speech clips, and SOURCES.md covers them.

The clips and both files are made by scripts/make_data_samples.py; these tests guard the committed result.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import DATA_SAMPLES, REPO

FILELISTS = {  # filelist -> (sample rate in Hz, allowed duration range in s, as SOURCES.md documents)
    "filelist.txt": (16_000, (2.0, 6.0)),
    "filelist_48k.txt": (48_000, (1.0, 6.0)),
}
MIN_RMS_DBFS = -40.0                 # quieter than this counts as silent
MAX_TOTAL_BYTES = 5 * 1024 * 1024    # the folder's size budget


def read_filelist(name: str) -> list[tuple[str, str, str]]:
    "Parse `path|transcript|speaker` lines."
    path = DATA_SAMPLES / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run scripts/make_data_samples.py to rebuild data_samples/.")
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("|")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            pytest.fail(f"{name} line {i}: expected `path|transcript|speaker`, got {line!r}")
        rows.append((fields[0], fields[1], fields[2]))
    return rows


def speaker_sexes() -> dict[str, str]:
    "Speaker -> sex from the table under `## Speakers` in SOURCES.md."
    text = (DATA_SAMPLES / "SOURCES.md").read_text(encoding="utf-8")
    section = text.split("## Speakers", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| (\S+) \| (female|male) \|", section, re.M)}


@pytest.mark.parametrize("name", FILELISTS)
def test_filelist_clips_are_well_formed(name):
    rate, (lo, hi) = FILELISTS[name]
    rows = read_filelist(name)
    assert rows, f"{name} lists no clips"
    for rel, transcript, speaker in rows:
        assert rel.startswith("data_samples/"), f"{rel}: paths must be relative to the repository root"
        path = REPO / rel
        assert path.is_file(), f"{rel} is listed in {name} but does not exist"
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (rate, 1, "PCM_16"), \
            f"{rel}: {info.samplerate} Hz, {info.channels} ch, {info.subtype}; expected {rate} Hz mono PCM_16"
        x, _ = sf.read(str(path), dtype="int16")
        seconds = len(x) / rate
        assert lo <= seconds <= hi, f"{rel}: {seconds:.2f} s, outside {lo}-{hi} s"
        xf = x.astype(np.float64) / 32768.0
        rms_dbfs = 20 * np.log10(np.sqrt(np.mean(xf ** 2)) + 1e-12)
        assert rms_dbfs > MIN_RMS_DBFS, f"{rel}: RMS {rms_dbfs:.1f} dBFS, silent"
        assert not np.any((x == 32767) | (x == -32768)), f"{rel}: samples at full scale (clipped)"
        assert re.search(r"[A-Za-z]", transcript), f"{rel}: transcript {transcript!r} has no words"


def test_speakers_cover_both_sexes():
    rows = read_filelist("filelist.txt")
    speakers = {spk for _, _, spk in rows}
    assert len(rows) >= 6, f"filelist.txt lists {len(rows)} clips, need at least 6"
    assert len(speakers) >= 3, f"filelist.txt has speakers {sorted(speakers)}, need at least 3"
    sexes = speaker_sexes()
    assert speakers <= sexes.keys(), f"SOURCES.md's speaker table lacks {sorted(speakers - sexes.keys())}"
    assert {sexes[s] for s in speakers} == {"female", "male"}, "filelist.txt needs male and female speakers"
    per_speaker = {s: sum(spk == s for _, _, spk in rows) for s in speakers}
    assert sum(n >= 2 for n in per_speaker.values()) >= 3, f"clips per speaker {per_speaker}: need >= 2 for 3 speakers"
    assert len(read_filelist("filelist_48k.txt")) >= 2, "need at least two 48 kHz clips"


def test_every_clip_is_listed_and_documented():
    listed = {Path(rel).name for name in FILELISTS for rel, _, _ in read_filelist(name)}
    on_disk = {p.name for p in DATA_SAMPLES.glob("*.wav")}
    assert on_disk == listed, f"unlisted clips {sorted(on_disk - listed)}, missing clips {sorted(listed - on_disk)}"
    sources = (DATA_SAMPLES / "SOURCES.md").read_text(encoding="utf-8")
    undocumented = sorted(f for f in on_disk if f"`{f}`" not in sources)
    assert not undocumented, f"SOURCES.md does not mention {undocumented}"
    for licence in ("CMU_ARCTIC_COPYING.txt", "asterisk-core-sounds-en_copyright.txt", "pocketsphinx_LICENSE.txt",
                    "alsa-utils_copyright.txt", "GPL-2.txt"):
        assert (DATA_SAMPLES / "licenses" / licence).is_file(), f"data_samples/licenses/{licence} is missing"


def test_folder_fits_the_size_budget():
    total = sum(p.stat().st_size for p in DATA_SAMPLES.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES, f"data_samples/ is {total / 1e6:.2f} MB, budget {MAX_TOTAL_BYTES / 1e6:.2f} MB"
