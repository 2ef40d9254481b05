"""HierSpeechPipeline for practitioners: a voice prompt encoded once, lists of inputs, and streaming (notebook 18).

Tiny random models (`HierSpeechPipeline.random`); the clips come from data_samples/."""
from __future__ import annotations

import pytest
import torch

from conftest import DATA_SAMPLES
from hierspeech_nb.audio import SAMPLE_RATE, load_audio
from hierspeech_nb.inference import HierSpeechPipeline, VoicePrompt


def _clip(speaker: str):
    lines = [line.split("|") for line in (DATA_SAMPLES / "filelist.txt").read_text().splitlines()]
    path, text, _ = next(line for line in lines if line[2] == speaker)
    return DATA_SAMPLES / path.split("/")[-1], text


@pytest.fixture(scope="module")
def pipeline():
    return HierSpeechPipeline.random(seed=0)


@pytest.fixture(scope="module")
def prompt_path():
    return _clip("allison")[0]


@pytest.fixture(scope="module")
def source_path():
    return _clip("lvx_ss01")[0]


@pytest.fixture(scope="module")
def voice(pipeline, prompt_path):
    return pipeline.prompt(prompt_path)


def test_prompt_holds_what_the_tasks_need(pipeline, voice, prompt_path):
    assert isinstance(voice, VoicePrompt)
    assert torch.equal(voice.waveform, load_audio(prompt_path))
    assert voice.mel.shape[:2] == (1, 80) and voice.mel.shape[-1] * 320 >= 3 * SAMPLE_RATE   # replicated to 3 s
    assert voice.synthesizer_style.shape == (1, 256, 1) and voice.ttv_style.shape == (1, 256, 1)
    assert voice.f0 is not None and voice.f0.dim() == 3
    mixed = pipeline.prompt(prompt_path, denoise_ratio=0.5)
    assert mixed.mel.shape[0] == 2                                   # original and denoised rows
    assert not torch.allclose(mixed.synthesizer_style, voice.synthesizer_style)
    assert pipeline.prompt(voice) is voice


def test_voice_prompt_equals_the_path_through_the_lesson_functions(pipeline, voice, prompt_path, source_path):
    from hierspeech_nb.synthesizer import voice_conversion
    from hierspeech_nb.ttv_training import text_to_speech
    text = "Hello there. Go on."
    reference = text_to_speech(text, prompt_path, pipeline.ttv, pipeline.synthesizer, seed=3, progress=False)
    spoken, rate = pipeline.tts(text, voice, seed=3, scale_norm="none", progress=False)
    assert rate == SAMPLE_RATE and torch.equal(spoken, reference.clamp(-1, 1))
    reference = voice_conversion(source_path, prompt_path, pipeline.synthesizer, pipeline.mms, seed=3, progress=False)
    converted, _ = pipeline.vc(source_path, voice, seed=3, scale_norm="none", progress=False)
    assert torch.equal(converted, reference.clamp(-1, 1))


def test_the_prompt_is_encoded_once_for_many_sentences_and_inputs(pipeline, prompt_path, source_path, monkeypatch):
    import hierspeech_nb.pitch as pitch
    import hierspeech_nb.synthesizer as synthesizer
    import hierspeech_nb.ttv_training as ttv_training
    counts = {"mel": 0, "f0": 0}
    real_mels, real_f0 = ttv_training.prompt_mels, pitch.get_f0

    def counting_mels(*args, **kwargs):
        counts["mel"] += 1
        return real_mels(*args, **kwargs)

    def counting_f0(*args, **kwargs):
        counts["f0"] += 1
        return real_f0(*args, **kwargs)

    monkeypatch.setattr(ttv_training, "prompt_mels", counting_mels)
    monkeypatch.setattr(pitch, "get_f0", counting_f0)          # the prompt's (pipeline.prompt)
    monkeypatch.setattr(synthesizer, "get_f0", counting_f0)    # each source's (voice_conversion)
    pipeline.tts(["Hello there. Yes. Go on.", "Fine."], prompt_path, seed=1, progress=False)
    assert counts == {"mel": 1, "f0": 0}          # one prompt: one mel (TTS needs no F0), four sentences
    counts.update(mel=0, f0=0)
    clip = load_audio(source_path)[:, : SAMPLE_RATE]
    pipeline.vc([clip, clip], prompt_path, seed=1, progress=False)
    assert counts == {"mel": 1, "f0": 3}          # the prompt's F0 once, each source's F0 once


def test_lists_equal_one_at_a_time(pipeline, voice, source_path):
    texts = ["Hello there.", "Go on."]
    together = pipeline.tts(texts, voice, seed=2, progress=False)
    assert len(together) == 2
    for text, (audio, rate) in zip(texts, together):
        assert torch.equal(audio, pipeline.tts(text, voice, seed=2, progress=False)[0]) and rate == SAMPLE_RATE
    clips = [load_audio(source_path)[:, : SAMPLE_RATE], load_audio(source_path)[:, SAMPLE_RATE: 2 * SAMPLE_RATE]]
    converted = pipeline.vc(clips, voice, seed=2, output_rate=24_000, progress=False)
    for clip, (audio, rate) in zip(clips, converted):
        alone, _ = pipeline.vc(clip, voice, seed=2, output_rate=24_000, progress=False)
        assert rate == 24_000 and torch.equal(audio, alone)


def test_stream_yields_the_first_sentence_before_making_the_next(pipeline, voice):
    made = []
    hook = pipeline.ttv.enc_p.register_forward_hook(lambda *args: made.append(1))
    try:
        stream = pipeline.tts_stream("Hello there. Yes. Go on.", voice, seed=4, scale_norm="none", progress=False)
        assert made == []                          # nothing is computed before the first chunk is asked for
        first, rate = next(stream)
        assert len(made) == 1 and rate == SAMPLE_RATE
        rest = [chunk for chunk, _ in stream]
        assert len(made) == 3 and len(rest) == 2
    finally:
        hook.remove()
    whole, _ = pipeline.tts("Hello there. Yes. Go on.", voice, seed=4, scale_norm="none", progress=False)
    assert torch.equal(torch.cat([first, *rest], dim=-1), whole)
    pause = int(0.2 * SAMPLE_RATE)
    assert torch.count_nonzero(rest[0][:, :pause]) == 0             # the pause leads every later chunk
    high = list(pipeline.tts_stream("Hello there. Go on.", voice, seed=4, output_rate=48_000, progress=False))
    assert [rate for _, rate in high] == [48_000, 48_000]
    assert float(high[1][0].abs().max()) == pytest.approx(0.999, abs=1e-4)   # each chunk normalised on its own


def test_bad_prompt_settings_name_the_fix(pipeline, voice, source_path):
    with pytest.raises(ValueError, match=r"encoded with denoise_ratio=0.0.*pipeline.prompt\(\.\.\., denoise_ratio=0.5\)"):
        pipeline.tts("Hi.", voice, denoise_ratio=0.5)
    with pytest.raises(ValueError, match=r"F0 comes from 'yaapt', not 'harvest'"):
        pipeline.vc(source_path, voice, f0_method="harvest")
    no_ttv = HierSpeechPipeline(synthesizer=pipeline.synthesizer, mms=pipeline.mms)
    with pytest.raises(ValueError, match="no TTV model"):
        no_ttv.tts_stream("Hi.", voice)
    with pytest.raises(ValueError, match="output rate 22050"):
        pipeline.tts_stream("Hi.", voice, output_rate=22_050)
    with pytest.raises(ValueError, match="prompt lasts"):
        pipeline.prompt(torch.zeros(1, 100) + 0.5)


def test_a_tts_prompt_used_for_vc_takes_the_asked_f0_method(pipeline, prompt_path, source_path, monkeypatch):
    import hierspeech_nb.pitch as pitch
    import hierspeech_nb.synthesizer as synthesizer
    methods = []
    real_f0 = pitch.get_f0

    def recording_f0(*args, method="yaapt", **kwargs):
        methods.append(method)
        return real_f0(*args, method=method, **kwargs)

    monkeypatch.setattr(pitch, "get_f0", recording_f0)
    monkeypatch.setattr(synthesizer, "get_f0", recording_f0)
    voice = pipeline.prompt(prompt_path, f0_method=None)          # encoded for TTS: no F0
    assert voice.f0 is None
    clip = load_audio(source_path)[:, : SAMPLE_RATE]
    pipeline.vc(clip, voice, f0_method="harvest", seed=0, progress=False)
    assert methods == ["harvest", "harvest"]                      # the prompt's and the source's
