"""Golden tests for the shared building blocks (`hierspeech_nb.blocks`, `attentions`, `activations`; notebooks 05-05c).

synth_modules.pt records no per-block outputs, so the blocks are checked in three other ways:
(a) layout: our blocks built at full (released) size have exactly the state-dict keys, shapes, dtypes and
    parameter/buffer kinds of the released checkpoints' manifests, and the tiny golden state dicts load strictly;
(b) the Kaiser-sinc filters we compute equal the buffers stored in the real released SpeechSR checkpoints and in the
    golden tiny synthesizer bit for bit;
(c) numerics: the real SpeechSR checkpoints' AMP blocks and anti-aliased SnakeBeta, run by our code on the recorded
    intermediate tensors of the official generator (speechsr*_real.pt), reproduce its outputs;
(d) the inference drop-ins of the appendix (`hierspeech_nb.accel`: FastActivation1d, FastAMPBlock1) equal the lesson
    modules within 1e-5 and the official outputs within 1e-4, and with autograd on they run the lesson chain.
"""
from __future__ import annotations

import json

import pytest
import torch

from hierspeech_nb.accel import FastActivation1d, FastAMPBlock1, optimize_for_inference
from hierspeech_nb.activations import (AMPBlock1, Activation1d, DownSample1d, SnakeBeta, UpSample1d,
                                       kaiser_sinc_filter1d)
from hierspeech_nb.attentions import Encoder
from hierspeech_nb.blocks import WN, fold_weight_norm
from hierspeech_nb.fast_polyphase import POLYPHASE_MIN_LENGTH
from hierspeech_nb.config import SpeechSRConfig, SynthesizerConfig, released_config

# Sizes the official code hard-codes (hierspeechpp_speechsynthesizer.py / ttv_v1/t2w2v_transformer.py, golden README):
SF_ENCODER_WN = dict(kernel_size=5, dilation_rate=1, n_layers=8)      # enc_p/enc_p_l: each WN has 16 // 2 layers
AUDIO_ENCODER_WN_LAYERS = 16                                           # enc_q spectrogram branch
AUDIO_ENCODER_CHANNELS = [16, 32, 64, 128, 192]                        # enc_q waveform branch, after down_pre and 4 downs
SOURCE_NETWORK = dict(upsample_rates=[2, 2], kernel_sizes=[3, 5, 7])   # sn = SourceNetwork(uic // 2)
MEL_DECODER = dict(n_heads=2, n_layers=2, kernel_size=5, window_size=4)
TTV_TEXT_ENCODER = dict(n_heads=4, n_layers=3, kernel_size=9, window_size=4, filter_factor=4)
SPEECHSR = ("speechsr24k", "speechsr48k")


# ----------------------------------------------------------------------------------------------------------- helpers
def _manifest(shared_reference, name: str) -> dict:
    return json.loads((shared_reference / f"hierspeechpp_{name}_state_dict.json").read_text())["state_dict"]


def _expected_layout(manifest: dict, prefix: str) -> dict:
    layout = {key[len(prefix):]: (tuple(entry["shape"]), entry["dtype"], entry["kind"])
              for key, entry in manifest.items() if key.startswith(prefix)}
    assert layout, f"no manifest entries under {prefix!r}"
    return layout


def _our_layout(module: torch.nn.Module) -> dict:
    buffers = {name for name, _ in module.named_buffers()}
    return {name: (tuple(value.shape), str(value.dtype).removeprefix("torch."),
                   "buffer" if name in buffers else "parameter")
            for name, value in module.state_dict().items()}


def _assert_layout(module: torch.nn.Module, manifest: dict, prefix: str) -> None:
    ours, expected = _our_layout(module), _expected_layout(manifest, prefix)
    missing, extra = sorted(expected.keys() - ours.keys()), sorted(ours.keys() - expected.keys())
    assert not missing and not extra, f"{prefix}: missing {missing[:5]}, unexpected {extra[:5]}"
    wrong = {name: (ours[name], expected[name]) for name in expected if ours[name] != expected[name]}
    assert not wrong, f"{prefix}: (ours, released) differ for {wrong}"


def _subdict(state_dict: dict, prefix: str) -> dict:
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def _amp_blocks(channels_per_stage: list[int], kernel_sizes: list[int], dilations: list[list[int]]):
    "(index, block) for a generator-style resblock list: stage i, kernel j at index i * len(kernels) + j."
    for i, channels in enumerate(channels_per_stage):
        for j, (kernel_size, dilation) in enumerate(zip(kernel_sizes, dilations)):
            yield i * len(kernel_sizes) + j, (channels, kernel_size, dilation)


@pytest.fixture(scope="module")
def synth_manifest(shared_reference):
    return _manifest(shared_reference, "synthesizer")


@pytest.fixture(scope="module")
def synth_config() -> SynthesizerConfig:
    return released_config("synthesizer")


# ------------------------------------------------------------------------------- (a) layout of full-size blocks
def test_generator_amp_blocks_layout(synth_manifest, synth_config):
    model = synth_config.model
    stages = [model.upsample_initial_channel // 2 ** (i + 1) for i in range(len(model.upsample_rates))]
    blocks = list(_amp_blocks(stages, model.resblock_kernel_sizes, model.resblock_dilation_sizes))
    assert len(blocks) == 15
    for index, (channels, kernel_size, dilation) in blocks:
        _assert_layout(AMPBlock1(channels, kernel_size, dilation), synth_manifest, f"dec.resblocks.{index}.")
    _assert_layout(Activation1d(SnakeBeta(stages[-1])), synth_manifest, "dec.activation_post.")


def test_source_network_amp_blocks_layout(synth_manifest, synth_config):
    model = synth_config.model
    source_channels = model.upsample_initial_channel // 2
    stages = [source_channels // 2 ** (i + 1) for i in range(len(SOURCE_NETWORK["upsample_rates"]))]
    for index, (channels, kernel_size, dilation) in _amp_blocks(stages, SOURCE_NETWORK["kernel_sizes"],
                                                                model.resblock_dilation_sizes):
        _assert_layout(AMPBlock1(channels, kernel_size, dilation), synth_manifest, f"sn.resblocks.{index}.")
    _assert_layout(Activation1d(SnakeBeta(stages[-1])), synth_manifest, "sn.activation_post.")


def test_audio_encoder_amp_blocks_layout(synth_manifest, synth_config):
    model = synth_config.model
    for index, (channels, kernel_size, dilation) in _amp_blocks(AUDIO_ENCODER_CHANNELS[1:],
                                                                model.resblock_kernel_sizes,
                                                                model.resblock_dilation_sizes):
        _assert_layout(AMPBlock1(channels, kernel_size, dilation), synth_manifest, f"enc_q.resblocks.{index}.")
    _assert_layout(Activation1d(SnakeBeta(AUDIO_ENCODER_CHANNELS[-1])), synth_manifest, "enc_q.activation_post.")


@pytest.mark.parametrize("prefix", ["enc_p_l.source_enc.", "enc_p_l.filter_enc.", "enc_p_l.enc.",
                                    "enc_p.source_enc.", "enc_p.filter_enc.", "enc_p.enc."])
def test_source_filter_encoder_wavenet_layout(synth_manifest, synth_config, prefix):
    model = synth_config.model
    wavenet = WN(model.hidden_channels, gin_channels=model.gin_channels, **SF_ENCODER_WN)
    _assert_layout(wavenet, synth_manifest, prefix)


def test_audio_encoder_wavenet_layout(synth_manifest, synth_config):
    model = synth_config.model
    wavenet = WN(model.hidden_channels, SF_ENCODER_WN["kernel_size"], SF_ENCODER_WN["dilation_rate"],
                 AUDIO_ENCODER_WN_LAYERS, gin_channels=model.gin_channels)
    _assert_layout(wavenet, synth_manifest, "enc_q.enc.")


def test_mel_decoder_encoder_layout(synth_manifest, synth_config):
    model = synth_config.model
    encoder = Encoder(model.inter_channels, model.filter_channels, **MEL_DECODER)
    _assert_layout(encoder, synth_manifest, "mel_decoder.encoder.")


@pytest.mark.parametrize("prefix", ["enc_p.encoder.", "enc_p.encoder2."])
def test_ttv_text_encoder_layout(shared_reference, prefix):
    model = released_config("ttv").model
    settings = dict(TTV_TEXT_ENCODER)
    filter_channels = settings.pop("filter_factor") * model.inter_channels
    encoder = Encoder(model.inter_channels, filter_channels, **settings)
    _assert_layout(encoder, _manifest(shared_reference, "ttv"), prefix)


def test_ttv_posterior_wavenet_layout(shared_reference):
    model = released_config("ttv").model
    wavenet = WN(model.hidden_channels, SF_ENCODER_WN["kernel_size"], SF_ENCODER_WN["dilation_rate"],
                 AUDIO_ENCODER_WN_LAYERS, gin_channels=256)
    _assert_layout(wavenet, _manifest(shared_reference, "ttv"), "enc_q.enc.")


def test_tiny_synthesizer_blocks_load_strictly(golden_dir):
    "The golden tiny state dict's block subtrees load with strict=True into tiny-size blocks."
    config = SynthesizerConfig.from_json(golden_dir / "synth_tiny_config.json").model
    state = torch.load(golden_dir / "synth_tiny_state_dict.pt", weights_only=True)
    stages = [config.upsample_initial_channel // 2 ** (i + 1) for i in range(len(config.upsample_rates))]
    modules = {f"dec.resblocks.{index}.": AMPBlock1(*spec) for index, spec in
               _amp_blocks(stages, config.resblock_kernel_sizes, config.resblock_dilation_sizes)}
    modules["dec.activation_post."] = Activation1d(SnakeBeta(stages[-1]))
    modules["enc_p_l.source_enc."] = WN(config.hidden_channels, gin_channels=config.gin_channels, **SF_ENCODER_WN)
    modules["mel_decoder.encoder."] = Encoder(config.inter_channels, config.filter_channels, **MEL_DECODER)
    for prefix, module in modules.items():
        module.load_state_dict(_subdict(state, prefix), strict=True)


# ---------------------------------------------------------------------------- (b) filters equal the released ones
def _filter_buffers(state_dict: dict) -> dict:
    return {key: value for key, value in state_dict.items() if key.endswith(".filter")}


@pytest.mark.parametrize("name", SPEECHSR)
def test_filters_equal_released_speechsr_buffers(shared_reference, name):
    checkpoint_dir = shared_reference / "checkpoints" / name
    checkpoint = torch.load(next(checkpoint_dir.glob("G_*.pth")), map_location="cpu", weights_only=True)
    buffers = _filter_buffers(checkpoint["model"])
    assert buffers, f"no filter buffers in the {name} checkpoint"
    upsample, downsample = UpSample1d(2).filter, DownSample1d(2).lowpass.filter
    for key, value in buffers.items():
        ours = upsample if key.endswith("upsample.filter") else downsample
        assert key.endswith(("upsample.filter", "downsample.lowpass.filter")), key
        # exact: same float32 formula (kaiser_window, sinc, sum normalisation) as the code that trained them
        assert value.dtype == ours.dtype and torch.equal(value, ours), key


def test_filters_equal_tiny_synthesizer_buffers(golden_dir):
    state = torch.load(golden_dir / "synth_tiny_state_dict.pt", weights_only=True)
    buffers = _filter_buffers(state)
    reference = kaiser_sinc_filter1d(cutoff=0.25, half_width=0.3, kernel_size=12)
    assert len(buffers) == 2 * sum(1 for key in buffers if key.endswith("upsample.filter"))
    for key, value in buffers.items():
        assert torch.equal(value, reference), key


# --------------------------------------------------------------- (c) numerics on the real SpeechSR checkpoints
@pytest.fixture(scope="module", params=SPEECHSR)
def speechsr(request, shared_reference, golden_dir):
    name = request.param
    checkpoint_dir = shared_reference / "checkpoints" / name
    config = SpeechSRConfig.from_json(checkpoint_dir / "config.json").model
    checkpoint = torch.load(next(checkpoint_dir.glob("G_*.pth")), map_location="cpu", weights_only=True)
    fixture = torch.load(golden_dir / f"{name}_real.pt", weights_only=True)
    return name, config, checkpoint["model"], fixture


def _speechsr_resblocks(config, state) -> list[AMPBlock1]:
    "SpeechSR's single stage: one AMPBlock1 per kernel size at upsample_initial_channel channels (real weights)."
    blocks = []
    for index, (channels, kernel_size, dilation) in _amp_blocks([config.upsample_initial_channel],
                                                                config.resblock_kernel_sizes,
                                                                config.resblock_dilation_sizes):
        block = AMPBlock1(channels, kernel_size, dilation).eval()
        block.load_state_dict(_subdict(state, f"dec.resblocks.{index}."), strict=True)
        blocks.append(block)
    return blocks


def _optimized_resblocks(config, state):
    "The released SpeechSR AMP blocks as the inference drop-ins (weight norm folded, channels-last)."
    return [optimize_for_inference(block) for block in _speechsr_resblocks(config, state)]


def _resblock_mean(blocks, x):
    total = None
    for block in blocks:   # the official accumulation order: ((b0 + b1) + b2) / 3
        total = block(x) if total is None else total + block(x)
    return total / len(blocks)


def test_activation_post_matches_official(speechsr):
    name, config, state, fixture = speechsr
    activation = Activation1d(SnakeBeta(config.upsample_initial_channel)).eval()
    activation.load_state_dict(_subdict(state, "dec.activation_post."), strict=True)
    with torch.no_grad():
        out = activation(fixture["short_resblock_mean"])
    # atol 1e-4 (golden README, SpeechSR section); same ops in the same order, so the measured gap is ~0
    torch.testing.assert_close(out, fixture["short_activation_post_out"], rtol=0, atol=1e-4, msg=name)


def test_amp_blocks_match_official(speechsr):
    name, config, state, fixture = speechsr
    blocks = _speechsr_resblocks(config, state)
    with torch.no_grad():
        out = _resblock_mean(blocks, fixture["short_interp_out"])
    # atol 1e-4 (golden README, SpeechSR section); weight norm is computed by the same kernel as the official code
    torch.testing.assert_close(out, fixture["short_resblock_mean"], rtol=0, atol=1e-4, msg=name)


def test_folded_amp_blocks_match_official(speechsr):
    "The fast path: folding weight norm into plain weights stays within the README's 1e-4."
    name, config, state, fixture = speechsr
    blocks = _speechsr_resblocks(config, state)
    assert sum(fold_weight_norm(block) for block in blocks) == 6 * len(blocks)
    with torch.no_grad():
        out = _resblock_mean(blocks, fixture["short_interp_out"])
    torch.testing.assert_close(out, fixture["short_resblock_mean"], rtol=0, atol=1e-4, msg=name)


def test_amp_activation_order_matters(speechsr):
    "Sensitivity: swapping the two activations of each AMP pair must be caught by the comparison above."
    name, config, state, fixture = speechsr
    blocks = _speechsr_resblocks(config, state)
    for block in blocks:
        acts = list(block.activations)
        block.activations = torch.nn.ModuleList([acts[i ^ 1] for i in range(len(acts))])  # swap 2k <-> 2k+1
    with torch.no_grad():
        out = _resblock_mean(blocks, fixture["short_interp_out"])
    assert (out - fixture["short_resblock_mean"]).abs().max() > 1e-2, name


# ------------------------------------------------------------------- the inference drop-ins (appendix, accel)
def test_fast_activation_matches_official_and_reference(speechsr):
    "The activation drop-in (fused kernel, then polyphase operations): equal to the golden output and to the lesson chain."
    name, config, state, fixture = speechsr
    activation = Activation1d(SnakeBeta(config.upsample_initial_channel)).eval()
    activation.load_state_dict(_subdict(state, "dec.activation_post."), strict=True)
    fast_activation = optimize_for_inference(activation, inplace=False)
    assert isinstance(fast_activation, FastActivation1d), name
    x = fixture["short_resblock_mean"]
    with torch.no_grad():
        reference = activation(x)
        for fused in (True, False):
            fast_activation.fused = fused
            assert fast_activation.applies(x), name
            fast = fast_activation(x)
            # atol 1e-4 against the official output (golden README); 1e-5 against our own straightforward chain,
            # since only the order of float32 additions differs (measured ~1e-6 at this signal scale)
            torch.testing.assert_close(fast, fixture["short_activation_post_out"], rtol=0, atol=1e-4, msg=name)
            torch.testing.assert_close(fast, reference, rtol=0, atol=1e-5, msg=name)


def test_fast_amp_blocks_match_reference_path(speechsr):
    "The AMP block drop-ins run channels-last end to end; the result equals the lesson blocks and the official one."
    name, config, state, fixture = speechsr
    plain, x = _speechsr_resblocks(config, state), fixture["short_interp_out"]
    blocks = _optimized_resblocks(config, state)
    with torch.no_grad():
        assert all(isinstance(block, FastAMPBlock1) and block.applies(x) for block in blocks), name
        fast = _resblock_mean(blocks, x)
        reference = _resblock_mean(plain, x)
    torch.testing.assert_close(fast, reference, rtol=0, atol=1e-5, msg=name)
    torch.testing.assert_close(fast, fixture["short_resblock_mean"], rtol=0, atol=1e-4, msg=name)


@pytest.mark.parametrize("length", [POLYPHASE_MIN_LENGTH - 1, POLYPHASE_MIN_LENGTH, 7, 64, 333])
def test_polyphase_equals_reference_on_random_input(length):
    "Random input and SnakeBeta parameters, lengths around the edge cases; shorter inputs fall back."
    torch.manual_seed(length)
    activation = Activation1d(SnakeBeta(5)).eval()
    with torch.no_grad():
        activation.act.alpha.normal_(0.0, 0.5)
        activation.act.beta.normal_(0.0, 0.5)
    fast_activation = FastActivation1d.from_plain(activation)
    x = 3 * torch.randn(2, 5, length)
    with torch.inference_mode():
        assert fast_activation.applies(x) == (length >= POLYPHASE_MIN_LENGTH)
        torch.testing.assert_close(fast_activation(x), activation(x), rtol=0, atol=1e-5)


def test_training_keeps_the_differentiable_path():
    "With autograd on, the drop-ins run the lesson chain and gradients reach every parameter."
    plain = AMPBlock1(4, 3, (1, 3, 5))
    block = FastAMPBlock1.from_plain(plain).train()
    x = torch.randn(1, 4, 50, requires_grad=True)
    assert not block.applies(x)
    out = block(x)
    assert torch.equal(out, AMPBlock1.forward(block, x))
    out.square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for parameter_name, parameter in block.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, parameter_name


def test_fused_residual_falls_back_when_onednn_refuses(speechsr, monkeypatch, caplog):
    "If PyTorch's internal conv + add operation is missing or refuses, the AMP blocks switch to conv, add_ (same result)."
    import hierspeech_nb.accel as accel
    name, config, state, fixture = speechsr
    blocks, x = _optimized_resblocks(config, state), fixture["short_interp_out"]
    with torch.no_grad():
        fused = _resblock_mean(blocks, x)

    class Refusing:   # stands in for torch.ops.mkldnn._convolution_pointwise_
        @staticmethod
        def binary(*args):
            raise RuntimeError("not supported in this build")

    monkeypatch.setattr(torch.ops.mkldnn, "_convolution_pointwise_", Refusing(), raising=False)
    monkeypatch.setitem(accel._ONEDNN_CONV_ADD, "usable", True)
    with torch.no_grad(), caplog.at_level("INFO", logger="hierspeech_nb.accel"):
        fallback = _resblock_mean(blocks, x)
    assert accel._ONEDNN_CONV_ADD["usable"] is False, name          # switched off after the first refusal
    assert "not supported in this build" in caplog.text
    torch.testing.assert_close(fallback, fused, rtol=0, atol=1e-6, msg=name)
    torch.testing.assert_close(fallback, fixture["short_resblock_mean"], rtol=0, atol=1e-4, msg=name)
