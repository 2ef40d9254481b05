"""Another language for the TTV (notebook 15c, `hierspeech_nb.language`): the front end and its symbol tables, the
cross-vocabulary adapter at the released sizes, the Asterisk corpus recipe, data_samples/fr and the CLI commands."""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import DATA_SAMPLES
from hierspeech_nb.cli import EXIT_BAD_INPUT, EXIT_OK, main
from hierspeech_nb.config import tiny_config
from hierspeech_nb.language import (SYMBOLS_FILE, VOCABULARY_WEIGHTS, SymbolTable, adapt_ttv_vocabulary,
                                    base_letter, nearest_rows, phonemize_text, prepare_asterisk,
                                    resolve_language)
from hierspeech_nb.text import PUNCTUATION, SYMBOLS, english_cleaners2, symbol_to_id, text_to_ids
from hierspeech_nb.ttv import TextToVec

FR = DATA_SAMPLES / "fr"


def fr_lines() -> list[list[str]]:
    return [line.split("|") for line in (FR / "filelist.txt").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def french() -> SymbolTable:
    return SymbolTable.from_texts([text for _, text, _ in fr_lines()], "fr")


# --- front end and symbol tables ---
def test_english_table_is_the_released_one():
    english = SymbolTable.english()
    assert english.symbols == SYMBOLS and len(english) == 178
    assert english.ids == symbol_to_id                    # the repeated apostrophe keeps its last id
    text = "Your call cannot be completed as dialed."
    assert phonemize_text(text, "en-us") == english_cleaners2(text)
    assert torch.equal(english.text_to_ids(text), text_to_ids(text))


def test_table_round_trip(french, tmp_path):
    path = french.save(tmp_path / SYMBOLS_FILE)
    loaded = SymbolTable.load(path)
    assert loaded == french and loaded.language == "fr-fr"
    assert french.symbols[:1 + len(PUNCTUATION)] == SYMBOLS[:1 + len(PUNCTUATION)]
    assert list(french.symbols[17:]) == sorted(french.symbols[17:])
    ids = french.encode(phonemize_text("La conférence est maintenant terminée.", "fr"))
    assert french.decode(ids) == phonemize_text("La conférence est maintenant terminée.", "fr")


def test_language_codes():
    assert resolve_language("fr") == "fr-fr" and resolve_language("FR_fr") == "fr-fr"
    assert resolve_language("es") == "es"
    with pytest.raises(ValueError, match=r"unknown language code 'fr-xx'.*fr-fr.*espeak_languages"):
        resolve_language("fr-xx")
    with pytest.raises(ValueError, match="unknown language code 'klingon'"):
        phonemize_text("bonjour", "klingon")
    with pytest.raises(ValueError, match="espeak-ng code"):
        resolve_language("")


def test_bad_texts(french):
    with pytest.raises(ValueError, match="no symbol of the 48-symbol fr-fr table"):
        french.encode("ʘǀǃ")
    with pytest.raises(ValueError, match="empty"):
        french.text_to_ids("   ")
    with pytest.warns(UserWarning, match=r"dropped 1 character.*'ɡ' \(U\+0261\)"):
        french.text_to_ids("Gaston")
    with pytest.raises(ValueError, match="starts with the pad"):
        SymbolTable(("a", "b"), "fr-fr")
    with pytest.raises(ValueError, match="no phoneme character"):
        SymbolTable.from_ipa([". ,"], "fr")


# --- the cross-vocabulary adapter ---
def test_nearest_rows_rule(french):
    english = SymbolTable.english()
    rows = dict(zip(french.symbols, nearest_rows(english, french)))
    assert rows["ʁ"] == ("same", symbol_to_id["ʁ"]) and rows["_"] == ("same", 0)
    assert rows["\u0303"] == ("mean", None) and rows["-"] == ("mean", None)
    assert base_letter("ã") == "a" and base_letter("aː") == "a" and base_letter("\u0303") == ""
    accented = SymbolTable((*SYMBOLS[:17], "ã", "ɛ"), "fr-fr")
    assert nearest_rows(english, accented)[17] == ("base", symbol_to_id["a"])


def test_adapt_released_size_ttv(french, shared_reference):
    "A full-size TTV saved as a stand-in for ttv_lt960_ckpt.pth, adapted to French: strict load, rows by the rule."
    reference = json.loads((shared_reference / "hierspeechpp_ttv_state_dict.json").read_text())["state_dict"]
    torch.manual_seed(0)
    released = TextToVec().state_dict()
    assert {k: list(v.shape) for k, v in released.items()} == {k: v["shape"] for k, v in reference.items()}
    english = SymbolTable.english()
    adapted = adapt_ttv_vocabulary(released, english, french)
    model = TextToVec(num_symbols=len(french))
    model.load_state_dict(adapted, strict=True)
    for key, value in released.items():
        if key not in VOCABULARY_WEIGHTS:
            assert adapted[key] is value or torch.equal(adapted[key], value), key
    for key in VOCABULARY_WEIGHTS:
        assert adapted[key].shape[0] == len(french) == 48
        for row, (rule, source) in enumerate(nearest_rows(english, french)):
            expected = released[key][source] if rule != "mean" else released[key].mean(0)
            assert torch.equal(adapted[key][row], expected), (key, french.symbols[row])
    assert not any(torch.equal(adapted[key], released[key]) for key in VOCABULARY_WEIGHTS)
    with pytest.raises(ValueError, match="178 rows but the old table has 48"):
        adapt_ttv_vocabulary(released, french, english)


def test_english_ttv_unchanged():
    "The default TextToVec keeps the released 178-symbol vocabulary (strict loading of ttv_lt960_ckpt.pth)."
    config = tiny_config("ttv")
    model = TextToVec(config.model, config.data, w2v_channels=8, pitch_channels=8, style_hidden_channels=8)
    assert model.enc_p.emb.weight.shape[0] == model.phoneme_classifier.weight.shape[0] == 178


def test_diagonality():
    from hierspeech_nb.language import diagonality
    path = torch.zeros(20, 10)
    path[torch.arange(20), torch.arange(20) // 2] = 1              # evenly paced staircase
    assert diagonality(path) == 1.0
    path = torch.zeros(20, 10)
    path[:19, 0], path[19, 9] = 1, 1                               # everything on the first token
    assert diagonality(path) == pytest.approx(0.2)                 # only the first 3 frames and the last are near
    assert diagonality(torch.full((50, 30), 1 / 30)) == pytest.approx(0.2, abs=0.02)   # uniform: about 2 x band
    from hierspeech_nb.language import ctc_alignment
    logits = torch.randn(48, 20)
    soft = ctc_alignment(logits, torch.tensor([20, 30, 20]))
    assert soft.shape == (20, 3) and torch.allclose(soft.sum(-1), torch.ones(20))
    assert torch.allclose(soft[:, 0], soft[:, 2])                  # a repeated phoneme gets the same share


# --- the Asterisk recipe and data_samples/fr ---
def fake_packages(root: Path, names: list[str]) -> Path:
    "Two extracted packages' worth of files, re-encoded from the shipped French clips, plus a beep."
    import G722
    voice = root / "usr/share/asterisk/sounds/fr_CA_f_June"
    (voice / "digits").mkdir(parents=True)
    codec, wording = G722.G722(16000, 64000), {Path(p).stem: t for p, t, _ in fr_lines()}
    for name in names:
        samples, _ = sf.read(str(FR / f"{name}.wav"), dtype="int16")
        (voice / f"{name}.g722").write_bytes(bytes(codec.encode(samples)))
    (voice / "digits/1.g722").write_bytes(bytes(codec.encode(np.zeros(4000, np.int16))))  # 0.25 s: too short
    (voice / "beep.g722").write_bytes(bytes(codec.encode(np.zeros(20000, np.int16))))
    doc = root / "usr/share/doc/asterisk-core-sounds-fr"
    doc.mkdir(parents=True)
    text = "; Core Asterisk Sounds in French\n\n" + "".join(f"{n}: {wording[n]}\n" for n in names)
    text += "beep: [beep]\ndigits/1: un\nmissing-audio: pas de fichier\n"
    (doc / "core-sounds-fr.txt.gz").write_bytes(gzip.compress(text.encode()))
    return root


def test_prepare_asterisk_folder_and_deb(tmp_path):
    names = ["conf-muted", "vm-passchanged"]
    source = fake_packages(tmp_path / "src", names)
    filelist = prepare_asterisk(source, "fr", tmp_path / "out")
    lines = [line.split("|") for line in filelist.read_text(encoding="utf-8").splitlines()]
    assert [Path(p).name for p, _, _ in lines] == ["conf-muted.wav", "vm-passchanged.wav"]
    assert lines[0][1:] == ["Vous êtes maintenant en mode discret.", "fr_CA_f_June"]
    info = sf.info(str(tmp_path / lines[0][0]))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    if shutil.which("dpkg-deb"):
        (source / "DEBIAN").mkdir()
        (source / "DEBIAN/control").write_text("Package: fake-sounds-fr\nVersion: 1\nArchitecture: all\n"
                                               "Maintainer: t <t@t>\nDescription: t\n")
        deb = tmp_path / "fake.deb"
        subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(source), str(deb)], check=True,
                       capture_output=True)
        again = prepare_asterisk([deb], "fr", tmp_path / "from_deb")
        assert again.read_text().replace("from_deb/", "out/") == filelist.read_text()
    with pytest.raises(FileNotFoundError, match="apt-get download asterisk-core-sounds-fr-g722"):
        prepare_asterisk(tmp_path / "nope", "fr", tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="core-sounds-es.txt"):
        prepare_asterisk(source, "es", tmp_path / "x")
    with pytest.raises(ValueError, match="missing-audio"):
        prepare_asterisk(source, "fr", tmp_path / "x", names=["conf-muted", "missing-audio"])


def test_data_samples_fr():
    lines = fr_lines()
    assert len(lines) >= 8
    sources = (FR / "SOURCES.md").read_text(encoding="utf-8")
    for rel, text, speaker in lines:
        path = DATA_SAMPLES / rel
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16"), rel
        assert 2.0 <= info.duration <= 6.0 and text.strip() and speaker == "fr_CA_f_June"
        assert f"`{path.name}`" in sources and text in sources
    assert {p.name for p in FR.glob("*.wav")} == {Path(rel).name for rel, _, _ in lines}
    assert sum(p.stat().st_size for p in FR.iterdir()) < 1_000_000
    assert (DATA_SAMPLES / "licenses/asterisk-core-sounds-fr_copyright.txt").is_file()
    assert "CC BY-SA 3.0" in sources


# --- the CLI ---
def test_cli_prepare(tmp_path):
    source = fake_packages(tmp_path / "src", ["conf-muted", "demo-echodone"])
    assert main(["prepare", "asterisk", "--language", "fr", "--source", str(source), "--out",
                 str(tmp_path / "fr")]) == EXIT_OK
    assert len((tmp_path / "fr/filelist.txt").read_text().splitlines()) == 2
    assert main(["prepare", "asterisk", "--language", "fr", "--source", str(tmp_path / "nope"), "--out",
                 str(tmp_path / "fr")]) == EXIT_BAD_INPUT


def test_cli_train_ttv_in_french_from_an_english_init(tmp_path, french):
    "train ttv --language fr --init: the table is built and saved, the English weights go through the adapter."
    filelist = tmp_path / "lists" / "train.txt"
    filelist.parent.mkdir()
    filelist.write_text("\n".join(line.strip() for line in (FR / "filelist.txt").read_text().splitlines()[:2]) + "\n")
    config = tiny_config("ttv")
    torch.manual_seed(0)
    english_ttv = TextToVec(config.model, config.data)               # what create_model("ttv", tiny) builds
    init = tmp_path / "english_ttv.pth"
    torch.save(english_ttv.state_dict(), init)
    out = tmp_path / "run"
    common = ["train", "ttv", "--config", "tiny", "--filelist", str(filelist), "--root", str(DATA_SAMPLES),
              "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--mms", "tiny", "--steps", "1",
              "--no-progress", "--no-tensorboard", "--device", "cpu"]
    assert main(common + ["--language", "fr", "--init", str(init)]) == EXIT_OK
    table = SymbolTable.load(out / SYMBOLS_FILE)
    assert table.language == "fr-fr" and set(table.symbols) <= set(french.symbols)
    generator = torch.load(out / "checkpoints/step_00000001.pt", weights_only=True)["generator"]
    assert generator["enc_p.emb.weight"].shape[0] == len(table)
    assert main(common + ["--language", "xx-nope", "--out", str(tmp_path / "bad")]) == EXIT_BAD_INPUT
    # without --language, the English init is loaded strictly, as before
    assert main(common + ["--init", str(init), "--out", str(tmp_path / "english")]) == EXIT_OK
    assert not (tmp_path / "english" / SYMBOLS_FILE).exists()


def test_speaking_french_with_a_trained_ttv(tmp_path, french):
    "load_language_ttv finds the run's symbols.json and config.json; the pipeline and `tts --ttv` speak French."
    from hierspeech_nb.inference import HierSpeechPipeline
    from hierspeech_nb.language import load_language_ttv
    config = tiny_config("ttv")
    torch.manual_seed(0)
    ttv = TextToVec(config.model, config.data, num_symbols=len(french))
    run = tmp_path / "runs" / "ttv_fr"
    (run / "checkpoints").mkdir(parents=True)
    config.to_json(run / "config.json")
    french.save(run / SYMBOLS_FILE)
    step = run / "checkpoints" / "step_00000010.pt"
    torch.save({"format": "hierspeech-nb-trainer/2", "generator": ttv.state_dict()}, step)   # as the trainer saves
    loaded, table = load_language_ttv(step)
    assert table == french and not loaded.training
    assert all(torch.equal(value, ttv.state_dict()[name]) for name, value in loaded.state_dict().items())
    pipeline = HierSpeechPipeline.random()
    pipeline.ttv, pipeline.symbols = loaded, table
    prompt = DATA_SAMPLES / "allison_vm-msgforwarded.wav"
    chunks = list(pipeline.tts_stream("Votre appel ne peut être complété. Merci, au revoir.", prompt, seed=0,
                                      progress=False))
    assert len(chunks) == 2 and all(torch.isfinite(audio).all() and audio.shape[-1] > 0 for audio, _ in chunks)
    with pytest.raises(ValueError, match="no speakable symbol"):
        pipeline.tts("... !?", prompt, progress=False)
    out = tmp_path / "bonjour.wav"
    args = ["tts", "--text", "Votre appel ne peut être complété.", "--prompt", str(prompt), "--out", str(out),
            "--random-weights", "--no-progress", "--device", "cpu", "--seed", "0"]
    assert main(args + ["--ttv", str(step)]) == EXIT_OK
    audio, rate = sf.read(out)
    assert rate == 16_000 and len(audio) > 0 and np.isfinite(audio).all()
    assert main(args + ["--ttv", str(tmp_path / "missing.pt")]) == EXIT_BAD_INPUT
