"""Golden front-end audio tests: our loading, padding, resampling and spectrograms against the official code's
outputs in ../shared/reference/golden/frontend_audio.pt (tolerances from the golden README)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from hierspeech_nb.audio import linear_spectrogram, load_audio, mel_spectrogram, pad_to_frames, resample
from hierspeech_nb.config import DataConfig

PAD_SOURCE = 1280   # official source/training padding block
PAD_PROMPT = 1600   # official denoiser-prompt padding block


@pytest.fixture(scope="module")
def audio_fixture(golden_dir):
    return torch.load(golden_dir / "frontend_audio.pt", weights_only=True)


def _clip_path(shared_reference: Path, source: str) -> Path:
    # fixture paths are relative to the official repository; example/reference_N.wav is shared/reference/speech/
    return shared_reference / "speech" / Path(source).name


def _clips(fixture):
    return list(zip(fixture["clip_names"], fixture["sources"]))


def test_mel_params_are_our_defaults(audio_fixture):
    params, data = json.loads(audio_fixture["mel_params"]), DataConfig()
    assert (params["sample_rate"], params["n_fft"], params["win_length"], params["hop_length"]) == (
        data.sampling_rate, data.filter_length, data.win_length, data.hop_length)
    assert (params["f_min"], params["f_max"], params["n_mels"]) == (data.mel_fmin, data.mel_fmax, data.n_mel_channels)


def test_load_audio_is_exact(audio_fixture, shared_reference):
    for name, source in _clips(audio_fixture):
        wav = load_audio(_clip_path(shared_reference, source))
        raw = audio_fixture[f"{name}/raw_int16"]
        assert wav.shape == raw.shape and wav.shape[-1] == audio_fixture[f"{name}/n_samples"]
        # exact: int16 / 32768 is what torchaudio.load returns for 16-bit PCM
        assert torch.equal(wav, raw.float() / 32768), name


def test_padding_is_exact(audio_fixture, shared_reference):
    for name, source in _clips(audio_fixture):
        wav = load_audio(_clip_path(shared_reference, source))
        padded = pad_to_frames(wav, PAD_SOURCE)
        assert padded.shape[-1] == audio_fixture[f"{name}/n_samples_pad1280"]
        assert padded.shape[-1] - wav.shape[-1] == audio_fixture[f"{name}/pad1280"]
        assert torch.equal(padded, audio_fixture[f"{name}/wav16k_pad1280"]), name
        prompt = pad_to_frames(wav, PAD_PROMPT)
        assert prompt.shape[-1] == audio_fixture[f"{name}/n_samples_pad1600"]
        assert prompt.shape[-1] - wav.shape[-1] == audio_fixture[f"{name}/pad1600"]


def test_mel_and_linear_spectrograms(audio_fixture, shared_reference):
    for name, source in _clips(audio_fixture):
        wav = load_audio(_clip_path(shared_reference, source))
        padded = pad_to_frames(wav, PAD_SOURCE)
        mel_prompt, mel_padded = mel_spectrogram(wav), mel_spectrogram(padded)
        linear = linear_spectrogram(padded)
        assert mel_prompt.shape[-1] == audio_fixture[f"{name}/n_mel_frames_prompt"]
        assert mel_padded.shape[-1] == audio_fixture[f"{name}/n_mel_frames_pad1280"]
        assert linear.shape[-1] == audio_fixture[f"{name}/n_spec_frames_pad1280"]
        # log-mels: atol 1e-4 (README); a float64 STFT already differs by 2.6e-5
        torch.testing.assert_close(mel_prompt, audio_fixture[f"{name}/mel_prompt"], rtol=0, atol=1e-4)
        torch.testing.assert_close(mel_padded, audio_fixture[f"{name}/mel_pad1280"], rtol=0, atol=1e-4)
        # power spectrum values reach ~900: rtol 1e-4, atol 1e-3 (README; float64 floor 1.9e-4 abs)
        torch.testing.assert_close(linear, audio_fixture[f"{name}/linear_spec_pad1280"], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("rate", [24000, 44100])
def test_resampling(audio_fixture, tmp_path, rate):
    source = audio_fixture[f"resample/in_{rate}"]
    expected = audio_fixture[f"resample/out_{rate}_to_16000"]
    # atol 1e-5 (README; float64 floor 1.5e-6)
    torch.testing.assert_close(resample(source, rate, 16000), expected, rtol=0, atol=1e-5)
    # the same through a file, as a user would: load_audio resamples a float wav at `rate`
    path = tmp_path / f"clip_{rate}.wav"
    sf.write(path, source[0].numpy(), rate, subtype="FLOAT")
    loaded = load_audio(path)
    assert loaded.shape == expected.shape
    torch.testing.assert_close(loaded, expected, rtol=0, atol=1e-5)


def test_a_wrong_padding_rule_would_be_caught(audio_fixture):
    # official: always add p = (N // B + 1) * B - N zeros, a whole extra block when N is already aligned; a rule that
    # only tops up to the next multiple gives other counts on every aligned clip of the fixture
    aligned = 0
    for name in audio_fixture["clip_names"]:
        n = int(audio_fixture[f"{name}/n_samples"])
        for block, key in ((PAD_SOURCE, "n_samples_pad1280"), (PAD_PROMPT, "n_samples_pad1600")):
            assert audio_fixture[f"{name}/{key}"] == (n // block + 1) * block, (name, key)
            if n % block == 0:
                aligned += 1
                assert -(-n // block) * block != audio_fixture[f"{name}/{key}"], (name, key)
    # the fixture may hold no aligned clip; our padding still adds a whole block to an aligned length
    assert pad_to_frames(torch.zeros(1, PAD_PROMPT), PAD_PROMPT).shape[-1] == 2 * PAD_PROMPT
    assert pad_to_frames(torch.zeros(1, PAD_SOURCE), PAD_SOURCE).shape[-1] == 2 * PAD_SOURCE


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_text("not audio"), "could not be read as audio"),
    (lambda p: sf.write(p, np.zeros(0, dtype=np.float32), 16000), "is empty"),
    (lambda p: sf.write(p, np.array([0.1, np.nan], dtype=np.float32), 16000, subtype="FLOAT"), "NaN/Inf"),
])
def test_bad_audio_files_name_the_file(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises((ValueError, FileNotFoundError), match=message) as error:
        load_audio(path)
    assert str(path) in str(error.value)


def test_stereo_and_int_formats(tmp_path):
    left = np.array([0.5, -0.5, 0.25], dtype=np.float32)
    sf.write(tmp_path / "stereo.wav", np.stack([left, np.zeros(3, np.float32)], 1), 16000, subtype="FLOAT")
    assert torch.allclose(load_audio(tmp_path / "stereo.wav")[0], torch.from_numpy(left) / 2)
    sf.write(tmp_path / "int32.wav", np.array([2**30, -2**31], dtype=np.int32), 16000, subtype="PCM_32")
    assert load_audio(tmp_path / "int32.wav")[0].tolist() == [0.5, -1.0]
