"""SpeechSR benchmark: 16 -> 48 / 24 kHz super-resolution with the released weights, official structure vs ours.

Run from the repository root:  python bench/speechsr.py [--models speechsr48k,speechsr24k] [--seconds 2,4,10]
                                                         [--repeats 3] [--threads 2] [--skip-memory]
                                                         [--quick] [--compile] [--keep-freed-memory]

`--seconds` takes a comma-separated list of input lengths (default 2, 4 and 10 s: the straightforward path slows down
more than in proportion once its doubled-rate intermediate tensors outgrow glibc's 32 MB limit for reusing freed
memory, about 2.7 s of input at 48 kHz, because every fresh tensor is then page-faulted in again; ours never builds
them). `--quick`: 2 s of input, 1 repeat, no memory runs. `--compile` adds a third, opt-in path, "ours + torch.compile":
`torch.compile(model, dynamic=False)` (inductor, C++ through the system compiler) of the lesson model with its weight
norm folded: the compiler sees the plain modules (it cannot trace into the numba kernel) and fuses the straightforward
chain itself. Its first call compiles (half a minute to a minute per model and input length on a 2-core CPU), and its
output is checked against the straightforward path within the same tolerance. Measured on 2 cores: about half as fast
as the default fused kernel (3.6x / 4.6x the straightforward path at 24 / 48 kHz, 4 s), so it is not the default.

Page faults. The table counts the minor page faults of each timed run. With glibc's default malloc, large freed
tensors go back to the operating system at once, so a path that allocates many of them pays a page fault for every
4 kB it touches afresh; the straightforward path builds a dozen doubled-rate tensors per activation and spends much
of its time there (ours reuses its buffers). `--keep-freed-memory` asks glibc, for the whole process and so for
both paths, to keep up to 32 MB blocks (`mallopt`, bench/common.py): the straightforward path then runs faster and
the speed-up is smaller, the share of it that is computation rather than memory traffic. Run both to separate the
two effects; the default is the process as a user gets it.

One fresh process per setting. Each (model, input length) is timed in a new process (multiprocessing, spawn), so
no setting inherits the allocator state left by the ones before it (glibc raises its mmap threshold after freeing a
large block: in one process, a 24 kHz run after the 48 kHz ones page-faulted less than on its own). Even so, at 2 s
the straightforward path's page faults per run differ from one invocation to the next (48 kHz, 2 s: from 1 to 580,000
on the same machine), and its time and the default speed-up with them (3.4x to 7.8x measured); at 4 s they are always
high. `--keep-freed-memory` gives the stable, compute-only figure.

The ceiling. The row "ceiling: our 20 convolutions alone" runs only the model's dense convolutions (conv_pre, the 18
of the AMP blocks with their residual sums fused in, conv_post) with the very oneDNN calls ours makes, on stand-in
tensors of the real shapes: the time that any implementation computing those float32 convolutions with oneDNN (here
at 160-200 GFLOP/s, near the 2 cores' peak) spends on them alone. Its speed-up column is the most such an
implementation can reach over the straightforward path on this machine. Going past it needs fewer FLOPs or lower
precision: FFT (overlap-save) convolutions measured 2-4x slower than oneDNN for these 32-channel, 3- to 11-tap
kernels; Winograd and bfloat16 (at most twice the float32 rate with AVX-512 BF16, and three passes to keep float32
accuracy) are not tried. Measured
on 2 cores (AMD EPYC, --keep-freed-memory, three runs of all four settings): the ceiling is 4.0-7.2x and ours reaches
3.1-4.9x, 60-78 % of the ceiling in every setting; the rest of our time is mostly the fused activation kernel (about a quarter), then the three running-sum copies.

The target. The last column of the checks table says whether ours is at least 5x the straightforward path in that
run (the project's target; reported, not asserted). The figure that motivated it, about 2.9 s per second of audio for
the official 48 kHz model on 2 threads, is what this straightforward path costs in the default state on longer
inputs (here 1.5 s/s at 4 s and 2.1 s/s at 10 s, with 2 to 8 million page faults per run); there ours is 10-13x.
Measured with the defaults (AMD EPYC, 2 cores, one run): 48 kHz 7.3x / 10.6x / 13.0x at 2 / 4 / 10 s, 24 kHz
4.6x / 7.2x / 10.7x. Short inputs are where it is not always met: at 2 s the straightforward path page-faults little
or not at all, and with --keep-freed-memory at 24 kHz, 2 s even the convolutions alone were only 4.1x faster than
the straightforward path (48 kHz: 5.4x), so no implementation that computes them in float32 with oneDNN reaches 5x
there on this machine.

After the move of the fast path into the appendix (`optimize_for_inference`, issue 17), on an Intel Xeon with 2 cores:
the defaults gave 48 kHz 4.4x / 9.7x / 10.6x at 2 / 4 / 10 s, 24 kHz 6.7x / 5.1x / 9.9x. The code before the move,
run on the same machine right before ours (`--models speechsr48k --seconds 4,10 --skip-memory`): 9.40x / 9.19x;
ours in the same setting: 9.67x / 9.46x. The straightforward path page-faults less on this machine (0.78 s/s at 4 s),
so every ratio is lower than on the AMD EPYC above; ours is not slower than before.

Runtime: the defaults took about 7 min on an idle 2-core CPU (about 8 min on one shared with other jobs).

Both paths load the real released SpeechSR checkpoints (shared/reference/checkpoints, found beside the checkout or
through HIERSPEECH_SHARED) and run on CPU:

- "straightforward (official structure)": a plain re-implementation, in this file, of the released
  `speechsr48k/speechsr.py` / `speechsr24k/speechsr.py` generator: PyTorch's legacy weight norm left on (the official
  inference never removes it), the alias-free activation as replicate pad -> transposed Kaiser-sinc conv -> crop ->
  SnakeBeta -> replicate pad -> strided conv, and `F.interpolate(size=int(N * factor), mode='linear')`, under
  `torch.no_grad()`.
- "ours, polyphase torch ops": `hierspeech_nb.models.load_checkpoint(name, path, optimize=True)` (`optimize_for_inference`, appendix A3) run
  in one pass under `torch.inference_mode()`, with every activation on appendix A1's polyphase path built from
  torch operations (`FastActivation1d.fused = False`: two 6-tap depthwise filters per phase, SnakeBeta in place), the AMP
  blocks channels-last.
- "ours (default)": the same model with the library's default fast path: each activation is one pass of notebook
  A2's fused numba kernel (up x2 -> SnakeBeta with a polynomial sine -> down x2, channels innermost in blocks of 16
  with inner loops of constant length, tiles over the threads, writing into one buffer that the AMP stage reuses),
  each residual sum fused into its convolution (oneDNN conv + add in place, `conv_channels_last_add_`), and the three
  AMP blocks, their mean, `activation_post` and `conv_post` stay channels-last.

The input is real 16 kHz speech (data_samples/filelist.txt, first clip, repeated/cut to `--seconds`). Timed runs are
interleaved (straightforward, ours, straightforward, ...) after one warm-up each, and the median is reported as
seconds of compute per second of audio. Correctness: both paths reproduce the golden real-weight output
(speechsr*_real.pt, 2 s of real speech) within the golden README's atol 1e-4, and agree with each other on the timed
input within the same tolerance. Peak memory = MB added by one run in a fresh process. Prints markdown tables and
asserts nothing about time (DESIGN.md, Benchmarks); it does assert the outputs' equality."""
from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import keep_freed_memory, machine, minor_faults, peak_memory_mb, table  # noqa: E402

from hierspeech_nb.activations import kaiser_sinc_filter1d  # noqa: E402  (the taps are buffers the checkpoint overwrites)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HIERSPEECH_SHARED", REPO.parent / "shared"))
CHECKPOINTS = {"speechsr48k": "speechsr48k/G_100000.pth", "speechsr24k": "speechsr24k/G_340000.pth"}
FACTORS = {"speechsr48k": 3.0, "speechsr24k": 1.5}   # hard-coded in the two official generator files
TOLERANCE = 1e-4                                       # golden README, SpeechSR section (atol, float32 interpolate)
TARGET = 5.0                                           # the project's target: ours >= 5x the straightforward path
INPUT_RATE = 16_000
PATHS = ("straightforward", "polyphase", "ours", "convs")
ALL_PATHS = PATHS + ("compiled",)   # "compiled" only with --compile
MODEL_PATHS = ("straightforward", "polyphase", "ours", "compiled")   # those that compute the output
PATH_NAMES = {"straightforward": "straightforward (official structure)",
              "polyphase": "ours, polyphase torch ops (folded)", "ours": "ours (default: fused kernel, folded)",
              "compiled": "ours + torch.compile (opt-in)",
              "convs": "ceiling: our 20 convolutions alone (nothing else)"}


# ------------------------------------------------------------------ the straightforward path (official structure)
class PlainSnakeBeta(nn.Module):
    "x + sin^2(exp(a) x) / (exp(b) + 1e-9), parameters `alpha`, `beta` in log scale."

    def __init__(self, channels: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        alpha = torch.exp(self.alpha.unsqueeze(0).unsqueeze(-1))
        beta = torch.exp(self.beta.unsqueeze(0).unsqueeze(-1))
        return x + (1.0 / (beta + 1e-9)) * torch.pow(torch.sin(x * alpha), 2)


class PlainUpSample(nn.Module):
    "x2: replicate pad 5, transposed depthwise conv with stride 2 (gain 2), crop 15 + 15."

    def __init__(self, ratio: int = 2, kernel_size: int = 12):
        super().__init__()
        self.ratio, self.pad = ratio, kernel_size // ratio - 1
        self.crop_left = self.pad * ratio + (kernel_size - ratio) // 2
        self.crop_right = self.pad * ratio + (kernel_size - ratio + 1) // 2
        self.register_buffer("filter", kaiser_sinc_filter1d(0.5 / ratio, 0.6 / ratio, kernel_size))

    def forward(self, x):
        channels = x.shape[1]
        x = F.pad(x, (self.pad, self.pad), mode="replicate")
        x = self.ratio * F.conv_transpose1d(x, self.filter.expand(channels, -1, -1), stride=self.ratio,
                                            groups=channels)
        return x[..., self.crop_left:-self.crop_right]


class PlainLowPass(nn.Module):
    "Depthwise low-pass with replicate padding (5 left, 6 right) and stride 2."

    def __init__(self, ratio: int = 2, kernel_size: int = 12):
        super().__init__()
        self.pad_left, self.pad_right = kernel_size // 2 - int(kernel_size % 2 == 0), kernel_size // 2
        self.stride = ratio
        self.register_buffer("filter", kaiser_sinc_filter1d(0.5 / ratio, 0.6 / ratio, kernel_size))

    def forward(self, x):
        channels = x.shape[1]
        x = F.pad(x, (self.pad_left, self.pad_right), mode="replicate")
        return F.conv1d(x, self.filter.expand(channels, -1, -1), stride=self.stride, groups=channels)


class PlainDownSample(nn.Module):
    def __init__(self, ratio: int = 2, kernel_size: int = 12):
        super().__init__()
        self.lowpass = PlainLowPass(ratio, kernel_size)

    def forward(self, x):
        return self.lowpass(x)


class PlainActivation1d(nn.Module):
    "Up x2 -> SnakeBeta -> down x2 (attribute names of the released checkpoints)."

    def __init__(self, channels: int):
        super().__init__()
        self.act = PlainSnakeBeta(channels)
        self.upsample = PlainUpSample()
        self.downsample = PlainDownSample()

    def forward(self, x):
        return self.downsample(self.act(self.upsample(x)))


def _wn_conv(channels_in: int, channels_out: int, kernel_size: int, dilation: int = 1) -> nn.Module:
    "A 'same'-padded Conv1d under PyTorch's legacy weight norm (parameters weight_g, weight_v)."
    conv = nn.Conv1d(channels_in, channels_out, kernel_size, 1, dilation=dilation,
                     padding=(kernel_size * dilation - dilation) // 2)
    return torch.nn.utils.weight_norm(conv)


class PlainAMPBlock0(nn.Module):
    "Three residual pairs: activation -> dilated conv -> activation -> conv."

    def __init__(self, channels: int, kernel_size: int, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList(_wn_conv(channels, channels, kernel_size, d) for d in dilations)
        self.convs2 = nn.ModuleList(_wn_conv(channels, channels, kernel_size) for _ in dilations)
        self.activations = nn.ModuleList(PlainActivation1d(channels) for _ in range(2 * len(dilations)))

    def forward(self, x):
        for conv1, conv2, act1, act2 in zip(self.convs1, self.convs2, self.activations[::2], self.activations[1::2]):
            x = conv2(act2(conv1(act1(x)))) + x
        return x


class PlainGenerator(nn.Module):
    "conv_pre (weight norm) -> linear interpolation x factor -> mean of the AMP blocks -> activation -> conv -> tanh."

    def __init__(self, factor: float, channels: int, kernel_sizes, dilations):
        super().__init__()
        self.factor = factor
        self.conv_pre = _wn_conv(1, channels, 7)
        self.resblocks = nn.ModuleList(PlainAMPBlock0(channels, k, d) for k, d in zip(kernel_sizes, dilations))
        self.activation_post = PlainActivation1d(channels)
        self.conv_post = nn.Conv1d(channels, 1, 7, 1, padding=3, bias=False)

    def forward(self, x):
        x = self.conv_pre(x)
        x = F.interpolate(x, int(x.shape[-1] * self.factor), mode="linear")
        total = None
        for block in self.resblocks:
            total = block(x) if total is None else total + block(x)
        x = total / len(self.resblocks)
        return torch.tanh(self.conv_post(self.activation_post(x)))


class PlainSpeechSR(nn.Module):
    "The released container: one module `dec`."

    def __init__(self, factor: float, channels: int, kernel_sizes, dilations):
        super().__init__()
        self.dec = PlainGenerator(factor, channels, kernel_sizes, dilations)

    def forward(self, x):
        return self.dec(x)


def checkpoint_path(name: str) -> Path:
    path = SHARED / "reference" / "checkpoints" / CHECKPOINTS[name]
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: put the project's shared/ folder beside the checkout or set "
                                "HIERSPEECH_SHARED to it (the released SpeechSR checkpoints live there).")
    return path


def build_straightforward(name: str) -> PlainSpeechSR:
    "The official structure with the released weights, loaded strictly, eval mode."
    import json
    model_config = json.loads((checkpoint_path(name).parent / "config.json").read_text())["model"]
    model = PlainSpeechSR(FACTORS[name], model_config["upsample_initial_channel"],
                          model_config["resblock_kernel_sizes"], model_config["resblock_dilation_sizes"])
    state = torch.load(checkpoint_path(name), map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():   # our Kaiser taps are the released buffers
        if key.endswith(".filter") and not torch.allclose(value, state[key], atol=1e-7):
            raise RuntimeError(f"{key}: computed Kaiser taps differ from the checkpoint's buffer")
    return model.eval()


def build_ours(name: str) -> nn.Module:
    "Our SpeechSR with the released weights (strict load), through `optimize_for_inference` (appendix A3)."
    from hierspeech_nb.models import load_checkpoint
    return load_checkpoint(name, checkpoint_path(name), optimize=True)


# ------------------------------------------------------------------------------------------------------ runs
def compile_ours(name: str) -> nn.Module:
    "torch.compile (inductor, static shapes) of our lesson model with weight norm folded: the compiler sees plain modules."
    from hierspeech_nb.models import load_checkpoint
    return torch.compile(load_checkpoint(name, checkpoint_path(name), fold=True), dynamic=False)


class ConvolutionsOnly:
    "The convolutions of our folded model, run on stand-in tensors of the real shapes with the very calls ours makes."

    def __init__(self, model: nn.Module):
        from hierspeech_nb.accel import conv_channels_last, conv_channels_last_add_
        self.dec, self.conv, self.conv_add_ = model.dec, conv_channels_last, conv_channels_last_add_
        self.hidden = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        dec = self.dec
        length = dec.output_length(x.shape[-1])
        shape = (x.shape[0], dec.conv_pre.out_channels, 1, length)
        if self.hidden is None or self.hidden.shape != shape:   # stand-ins, made once: their values cost nothing
            self.hidden = torch.randn(shape).contiguous(memory_format=torch.channels_last)
            self.sums = torch.zeros(shape).contiguous(memory_format=torch.channels_last)
        out = self.conv(dec.conv_pre, x.unsqueeze(2).contiguous(memory_format=torch.channels_last))
        for block in dec.resblocks:
            for conv1, conv2 in zip(block.convs1, block.convs2):
                self.conv(conv1, self.hidden)                   # the dilated convolution
                self.conv_add_(conv2, self.hidden, self.sums)   # the second one, its residual sum fused in
        out = self.conv(dec.conv_post, self.hidden)
        return out.squeeze(2)


class Runner:
    "One path: the model and its grad-free context."

    def __init__(self, kind: str, name: str):
        if kind not in ALL_PATHS:
            raise ValueError(f"unknown path {kind!r}; choose one of {ALL_PATHS}.")
        self.kind = kind
        if kind == "straightforward":
            self.model = build_straightforward(name)
        elif kind == "compiled":
            self.model = compile_ours(name)
        else:
            self.model = build_ours(name)
        if kind == "polyphase":
            from hierspeech_nb.accel import FastActivation1d
            for module in self.model.modules():
                if isinstance(module, FastActivation1d):
                    module.fused = False   # A1's polyphase torch operations instead of A2's kernel
        if kind == "convs":
            self.model = ConvolutionsOnly(self.model)
        self.context = torch.no_grad if kind == "straightforward" else torch.inference_mode

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        with self.context():
            return self.model(x)


def speech(seconds: float) -> torch.Tensor:
    "[1, 1, N] real 16 kHz speech: the first clip of data_samples/filelist.txt, repeated/cut to `seconds`."
    from hierspeech_nb.audio import load_audio
    first = (REPO / "data_samples" / "filelist.txt").read_text().splitlines()[0].split("|")[0]
    wav = load_audio(REPO / first)                                      # [1, N]
    n = int(seconds * INPUT_RATE)
    return wav.repeat(1, n // wav.shape[-1] + 1)[:, :n].unsqueeze(0)


def memory_setup(kind: str, name: str, seconds: float, threads: int | None):
    "Picklable setup for peak_memory_mb: build the path in a fresh process and return one run on the input."
    if threads:
        torch.set_num_threads(threads)
    path, x = Runner(kind, name), speech(seconds)
    return functools.partial(path, x)


def measure(name: str, seconds: float, kinds: tuple[str, ...], repeats: int) -> dict:
    "Time every path on one input length, interleaved, and compare their outputs (run in a fresh process)."
    x = speech(seconds)
    paths = {kind: Runner(kind, name) for kind in kinds}
    golden = torch.load(SHARED / "reference" / "golden" / f"{name}_real.pt", weights_only=True)
    first_call, outputs = {}, {}
    for kind, path in paths.items():                                    # warm-up (compiles), kept
        start = time.perf_counter()
        outputs[kind] = path(x)
        first_call[kind] = time.perf_counter() - start
    # the compiled path has static shapes: the 2 s golden input would compile again, so it is checked
    # against the straightforward output on the timed input instead
    golden_diff = {kind: (path(golden["input_16k"]) - golden["output"]).abs().max().item()
                   for kind, path in paths.items() if kind in MODEL_PATHS and kind != "compiled"}
    times, faults = {kind: [] for kind in kinds}, {kind: [] for kind in kinds}
    for _ in range(repeats):                                             # interleaved
        for kind, path in paths.items():
            first_fault, start = minor_faults(), time.perf_counter()
            path(x)
            times[kind].append(time.perf_counter() - start)
            faults[kind].append(minor_faults() - first_fault)
    mutual = {kind: (outputs["straightforward"] - outputs[kind]).abs().max().item() for kind in kinds
              if kind in MODEL_PATHS}
    return {"medians": {kind: statistics.median(t) for kind, t in times.items()},
            "faults": {kind: statistics.median(f) for kind, f in faults.items()},
            "first_call": first_call, "golden_diff": golden_diff, "mutual": mutual,
            "threads": torch.get_num_threads()}


def _measure_child(queue, name, seconds, kinds, repeats, threads, keep_freed) -> None:
    try:
        if keep_freed:
            keep_freed_memory()
        if threads:
            torch.set_num_threads(threads)
        queue.put(("ok", measure(name, seconds, kinds, repeats)))
    except BaseException as error:   # reported by the parent, with the child's message
        queue.put(("error", f"{type(error).__name__}: {error}"))


def in_fresh_process(name: str, seconds: float, kinds: tuple[str, ...], repeats: int, threads: int,
                     keep_freed: bool) -> dict:
    """`measure` in a new process, so no setting inherits the allocator state of the one before (glibc raises its
    mmap threshold after large frees: a 24 kHz run after the 48 kHz ones would page-fault less than on its own)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure_child,
                              args=(queue, name, seconds, kinds, repeats, threads, keep_freed))
    process.start()
    status, result = queue.get()
    process.join()
    if status != "ok":
        raise RuntimeError(f"{name}, {seconds:g} s: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="speechsr48k,speechsr24k", help="comma-separated: speechsr48k, speechsr24k")
    parser.add_argument("--seconds", default="2,4,10", help="comma-separated input lengths (s of 16 kHz speech)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per path (median reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (0 = torch's choice)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the peak-memory runs (fresh processes)")
    parser.add_argument("--compile", action="store_true",
                        help="add the opt-in path 'ours + torch.compile' (compiling takes minutes on a busy CPU)")
    parser.add_argument("--quick", action="store_true", help="short run: 2 s of input, 1 repeat, no memory runs")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="glibc keeps freed blocks up to 32 MB in the process (both paths; see the docstring)")
    args = parser.parse_args()
    if args.keep_freed_memory and not keep_freed_memory():
        raise SystemExit("--keep-freed-memory: mallopt is not available (glibc only)")
    if args.quick:
        args.seconds, args.repeats, args.skip_memory = "2", 1, True
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in CHECKPOINTS]
    if unknown:
        raise ValueError(f"--models: unknown {unknown}; choose from {sorted(CHECKPOINTS)}.")
    lengths = [float(v) for v in args.seconds.split(",") if v.strip()]
    rows, checks = [], []
    kinds = PATHS + (("compiled",) if args.compile else ())
    compile_rows = []
    for name, seconds in [(name, seconds) for name in names for seconds in lengths]:
        result = in_fresh_process(name, seconds, kinds, args.repeats, args.threads, args.keep_freed_memory)
        medians, faults, first_call = result["medians"], result["faults"], result["first_call"]
        golden_diff, mutual = result["golden_diff"], result["mutual"]
        for kind in kinds:
            if args.skip_memory or kind in ("compiled", "convs"):
                peak = "skipped"
            else:
                _, added = peak_memory_mb(functools.partial(memory_setup, kind, name, seconds, args.threads))
                peak = f"{added:.0f}"
            rows.append([name, PATH_NAMES[kind], f"{seconds:g}", result["threads"],
                         f"{medians[kind]:.2f}", f"{medians[kind] / seconds:.3f}",
                         f"{medians['straightforward'] / medians[kind]:.2f}x", f"{faults[kind]:,.0f}", peak])
        print(f"done: {name}, {seconds:g} s", file=sys.stderr)
        checks.append([name, f"{seconds:g}", f"{golden_diff['straightforward']:.1e}", f"{golden_diff['polyphase']:.1e}",
                       f"{golden_diff['ours']:.1e}", f"{mutual['ours']:.1e}",
                       f"{medians['straightforward'] / medians['ours']:.2f}x",
                       f"{medians['straightforward'] / medians['convs']:.2f}x",
                       "yes" if medians["straightforward"] / medians["ours"] >= TARGET else "no"])
        if args.compile:
            compile_rows.append([name, f"{seconds:g}", f"{first_call['compiled']:.1f}", f"{first_call['ours']:.2f}",
                                 f"{mutual['compiled']:.1e}",
                                 f"{medians['ours'] / medians['compiled']:.2f}x",
                                 f"{medians['straightforward'] / medians['compiled']:.2f}x"])
        for label, value in (("straightforward vs golden", golden_diff["straightforward"]),
                             ("polyphase vs golden", golden_diff["polyphase"]),
                             ("ours vs golden", golden_diff["ours"]), ("ours vs straightforward", mutual["ours"]),
                             ("compiled vs straightforward", mutual.get("compiled", 0.0))):
            if value > TOLERANCE:
                raise AssertionError(f"{name}: {label} differ by {value:.2e} > atol {TOLERANCE:g}")

    print(f"Machine: {machine()}\n")
    allocator = ("glibc keeps freed blocks up to 32 MB (--keep-freed-memory)" if args.keep_freed_memory
                 else "default malloc settings")
    print(f"Real released SpeechSR weights; input: {args.seconds} s of real 16 kHz speech (data_samples); "
          f"{allocator}. "
          f"Median of {args.repeats} interleaved runs after 1 warm-up; s/s = compute seconds per second of audio. "
          "Peak memory = MB added by one run in a fresh process. Timings on a shared machine are noisy; the ratio "
          "of the same run is the figure that counts.\n")
    print(table(["model", "path", "audio (s)", "torch threads", "time (s)", "s per s of audio",
                 "speed-up vs straightforward", "page faults per run", "peak added (MB)"], rows))
    print()
    print(table(["model", "audio (s)", f"max abs diff straightforward vs golden (atol {TOLERANCE:g})", "polyphase vs golden",
                 "ours vs golden", "ours vs straightforward (timed input)", "speed-up ours/straightforward",
                 "ceiling (straightforward / convolutions alone)", f"ours >= {TARGET:g}x (target)"],
                checks))
    if compile_rows:
        print()
        print("torch.compile (opt-in, inductor, static shapes; not the library default): the first call compiles "
              "(C++ via the system compiler), later calls of the same input length reuse it.\n")
        print(table(["model", "audio (s)", "first call incl. compile (s)", "first call of ours, eager (s)",
                     "max abs diff compiled vs straightforward", "speed-up compiled/ours",
                     "speed-up compiled/straightforward"], compile_rows))


if __name__ == "__main__":
    main()
