"""Objective metrics (hierspeech_nb.evaluation, hierspeech_nb.evaluation_models) on hand-made inputs whose answer is known, and their input errors.

Needs the `eval` extra (pip install "hierspeech-nb[eval]"); every model it uses ships inside its wheel."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conftest import DATA_SAMPLES
from hierspeech_nb import evaluation as ev
from hierspeech_nb import evaluation_models as evm
from hierspeech_nb.audio import SAMPLE_RATE

SPEECH = DATA_SAMPLES / "allison_vm-msgforwarded.wav"
TIME = np.arange(SAMPLE_RATE) / SAMPLE_RATE   # 1 s at 16 kHz


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return ev.as_clip(SPEECH)


def tone(frequency: float) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * frequency * TIME)


# --- inputs ---------------------------------------------------------------------------------------------------
def test_as_clip_accepts_paths_tensors_and_rates(speech):
    assert speech.dtype == np.float64 and speech.ndim == 1
    np.testing.assert_array_equal(ev.as_clip(torch.from_numpy(speech)[None, None]), speech)
    assert ev.as_clip(torch.randn(48_000), sr=48_000).shape == (SAMPLE_RATE,)


@pytest.mark.parametrize("audio, message", [
    (torch.zeros(0), "empty"),
    (torch.zeros(SAMPLE_RATE), "silent"),
    (torch.randn(100), "too short"),
    (torch.randn(2, SAMPLE_RATE), "mix channels down"),
    (torch.ones(SAMPLE_RATE, dtype=torch.int16), "float tensor"),
    (torch.full((SAMPLE_RATE,), float("nan")), "NaN"),
])
def test_as_clip_rejects_bad_input(audio, message):
    with pytest.raises(ValueError, match=message):
        ev.as_clip(audio, name="my_clip")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        ev.as_clip(tmp_path / "nope.wav")


# --- degradations ---------------------------------------------------------------------------------------------
def test_add_noise_hits_the_snr_and_low_pass_empties_the_top(speech):
    noisy = ev.add_noise(speech, 7.5, seed=3)
    assert 10 * math.log10(np.sum(speech ** 2) / np.sum((noisy - speech) ** 2)) == pytest.approx(7.5, abs=1e-9)
    spectrum = np.abs(np.fft.rfft(ev.low_pass(speech, 4_000)))
    assert spectrum[np.fft.rfftfreq(speech.size, 1 / SAMPLE_RATE) > 4_000].max() < 1e-9


# --- mel-cepstral distortion --------------------------------------------------------------------------------
def test_mel_cepstrum_recovers_a_known_envelope():
    warped = ev.warp_frequency(np.linspace(0, np.pi, 1025), ev.MCEP_ALPHA)
    envelope = np.exp(2 * (-1.0 + 2 * 0.25 * np.cos(2 * warped) - 2 * 0.1 * np.cos(7 * warped)))[None]
    expected = np.zeros(ev.MCEP_ORDER + 1)
    expected[[0, 2, 7]] = [-1.0, 0.25, -0.1]
    np.testing.assert_allclose(ev.mel_cepstrum_from_envelope(envelope)[0], expected, atol=1e-3)


def test_warp_is_inverted_by_negative_alpha():
    omega = np.linspace(0, np.pi, 50)
    np.testing.assert_allclose(ev.warp_frequency(ev.warp_frequency(omega, 0.42), -0.42), omega, atol=1e-12)


def test_mcd_of_identical_signals_is_zero_and_gain_invariant(speech):
    assert ev.mel_cepstral_distortion(speech, speech) == 0.0
    assert ev.mel_cepstral_distortion(speech, 0.5 * speech) < 0.05     # a gain only changes c0
    assert 0 < ev.mel_cepstral_distortion(speech, ev.add_noise(speech, 20)) \
        < ev.mel_cepstral_distortion(speech, ev.add_noise(speech, 0))


def test_dtw_matches_the_naive_recursion():
    cost = np.random.default_rng(1).random((9, 6))
    total = np.full((10, 7), np.inf)
    total[0, 0] = 0
    for i in range(9):
        for j in range(6):
            total[i + 1, j + 1] = cost[i, j] + min(total[i, j], total[i, j + 1], total[i + 1, j])
    rows, cols = ev.dtw_path(cost)
    assert cost[rows, cols].sum() == pytest.approx(total[-1, -1], abs=1e-12)
    assert (rows[0], cols[0], rows[-1], cols[-1]) == (0, 0, 8, 5)
    assert set(np.diff(rows)) <= {0, 1} and set(np.diff(cols)) <= {0, 1}


def test_mcd_errors(speech):
    with pytest.raises(ValueError, match="ALIGN_MODES"):
        ev.mel_cepstral_distortion(speech, speech, align="soft")
    with pytest.raises(ValueError, match="non-empty"):
        ev.dtw_path(np.zeros((3, 0)))


# --- F0 ---------------------------------------------------------------------------------------------------------
def test_f0_rmse_of_a_tone_and_a_shifted_tone():
    # three semitones up = 300 cents = a frequency ratio of 2 ** (3 / 12)
    result = ev.f0_metrics(tone(150), tone(150 * 2 ** (3 / 12)), method="dio")
    assert result["f0_rmse_cents"] == pytest.approx(300, abs=5)
    assert result["f0_rmse_hz"] == pytest.approx(150 * (2 ** (3 / 12) - 1), rel=0.05)
    assert result["vuv_error_percent"] < 1.0
    same = ev.f0_metrics(tone(150), tone(150), method="dio")
    assert same["f0_rmse_cents"] == 0.0 and same["vuv_error_percent"] == 0.0


def test_f0_metrics_needs_voiced_frames(monkeypatch):
    # a tracker that hears no pitch anywhere (as on whisper): all frames 0 Hz
    monkeypatch.setattr(ev, "get_f0", lambda wav, **kwargs: torch.zeros(1, 1, -(-len(wav) // 80)))
    with pytest.raises(ValueError, match="no frame is voiced"):
        ev.f0_metrics(tone(150), tone(150))


# --- PESQ / STOI ------------------------------------------------------------------------------------------------
def test_pesq_and_stoi_rank_identical_above_degraded(speech):
    light, heavy = ev.add_noise(speech, 20), ev.add_noise(speech, 0)
    assert ev.pesq_score(speech, speech) == pytest.approx(ev.PESQ_RANGE[1], abs=1e-3)
    assert ev.PESQ_RANGE[1] > ev.pesq_score(speech, light) > ev.pesq_score(speech, heavy) >= ev.PESQ_RANGE[0]
    assert ev.stoi_score(speech, speech) == pytest.approx(1.0, abs=1e-6)
    assert 1.0 > ev.stoi_score(speech, light) > ev.stoi_score(speech, heavy)


def test_aligned_metrics_refuse_other_lengths(speech):
    with pytest.raises(ValueError, match="time-aligned"):
        ev.pesq_score(speech, speech[: speech.size // 2])
    with pytest.raises(ValueError, match="time-aligned"):
        ev.stoi_score(speech, np.concatenate([speech, speech]))


# --- speaker similarity, DNSMOS ---------------------------------------------------------------------------------
def test_slaney_filterbank_matches_torchaudio():
    import torchaudio
    ours = evm.slaney_mel_filterbank(400, 40)
    theirs = torchaudio.functional.melscale_fbanks(201, 0.0, 8000.0, 40, SAMPLE_RATE, norm="slaney",
                                                   mel_scale="slaney").T.double().numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-7)


def test_speaker_similarity_ranks_same_speaker_first(speech):
    embedding = evm.speaker_embedding(speech)
    assert embedding.shape == (256,) and np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)
    same = evm.speaker_similarity(speech, DATA_SAMPLES / "allison_cannot-complete-as-dialed.wav")
    other = evm.speaker_similarity(speech, DATA_SAMPLES / "awb_arctic_a0007.wav")
    assert evm.speaker_similarity(speech, speech) == pytest.approx(1.0, abs=1e-5)
    assert 1.0 > same > other >= 0.0


def test_dnsmos_hears_noise(speech):
    clean, noisy = evm.dnsmos(speech), evm.dnsmos(ev.add_noise(speech, 0))
    assert set(clean) == {"dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808"}
    assert all(1.0 <= value <= 5.0 for value in clean.values())
    assert clean["dnsmos_bak"] > noisy["dnsmos_bak"] and clean["dnsmos_ovrl"] > noisy["dnsmos_ovrl"]


# --- WER ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reference, hypothesis, expected", [
    ("the cat sat on the mat", "the cat sat on the mat", 0.0),
    ("the cat sat on the mat", "the cat sat on mat", 1 / 6),             # one deletion
    ("The cat, sat!", "the bat sat down", 2 / 3),                        # substitution + insertion, punctuation ignored
    ("one two", "", 1.0),                                                # nothing recognised
    ("one two", "three four five six", 2.0),                             # WER can exceed 1
])
def test_word_error_rate(reference, hypothesis, expected):
    assert evm.word_error_rate(reference, hypothesis) == pytest.approx(expected, abs=1e-12)


def test_word_error_rate_needs_a_reference():
    with pytest.raises(ValueError, match="no words"):
        evm.word_error_rate(" ?! ", "hello")


def test_transcribe_clean_speech(speech):
    hypothesis = evm.transcribe(speech)
    assert evm.word_error_rate("Your message has been successfully forwarded.", hypothesis) <= 0.5


# --- evaluate_pair / evaluate_batch ----------------------------------------------------------------------------
def test_evaluate_pair_and_batch_on_cheap_metrics(speech):
    noisy = ev.add_noise(speech, 10)
    rows = evm.evaluate_batch([speech, speech], [speech, noisy], names=["clean", "noisy"], progress=False,
                             metrics=("mcd", "pesq", "stoi"))
    assert [row["name"] for row in rows] == ["clean", "noisy"]
    assert rows[0]["mcd_db"] == 0.0 and rows[1]["pesq_wb"] < rows[0]["pesq_wb"]
    table = evm.metrics_table(rows)
    assert table.splitlines()[0] == "| name | mcd_db | pesq_wb | stoi |" and len(table.splitlines()) == 4


def test_evaluate_pair_skips_what_does_not_apply():
    run, skipped = evm._metrics_to_run(None, aligned=False, transcript=None)
    assert run == ["mcd", "f0", "speaker_similarity", "dnsmos"] and len(skipped) == 3
    run, skipped = evm._metrics_to_run(None, aligned=True, transcript="hello")
    assert run == list(evm.METRICS) and skipped == []


@pytest.mark.parametrize("call, message", [
    (lambda s: evm.evaluate_pair(s, s, metrics=("utmos",)), "unknown metrics"),
    (lambda s: evm.evaluate_pair(s, s, metrics=("wer",)), "needs `transcript`"),
    (lambda s: evm.evaluate_batch([s], [s, s]), "one reference per estimate"),
    (lambda s: evm.evaluate_batch([s], [s], transcripts=["a", "b"]), "2 transcripts for 1 estimates"),
])
def test_evaluate_errors(speech, call, message):
    with pytest.raises(ValueError, match=message):
        call(speech)


def test_missing_extra_names_the_install_command(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def fail_pesq(name, *args, **kwargs):
        if name == "pesq":
            raise ImportError("No module named 'pesq'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fail_pesq)
    with pytest.raises(ImportError, match=r"hierspeech-nb\[eval\]"):
        ev._import_eval_package("pesq", "pesq_score")
