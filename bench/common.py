"""Shared helpers for the benchmarks: machine description, medians, peak memory in a fresh process, tables.

Benchmarks print markdown tables and never assert a time (DESIGN.md, Benchmarks)."""
from __future__ import annotations

import multiprocessing as mp
import os
import platform
import statistics
import time
from typing import Callable


def machine() -> str:
    "One line naming the CPU, the threads torch uses and the versions."
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}; {os.cpu_count()} logical CPUs; torch {torch.__version__} with {torch.get_num_threads()} "
            f"threads; Python {platform.python_version()}")


def minor_faults() -> int:
    "Minor page faults of this process so far (each first touch of freshly mapped memory costs one)."
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory in the process instead of handing it back to the OS at once.

    By default glibc serves blocks above a (self-adjusting, at most 32 MB) threshold with fresh mmap and trims
    the heap whenever more than twice that is free at its top, so a loop that frees and re-allocates large
    tensors page-faults every fresh page in again. `mallopt(M_MMAP_THRESHOLD, 32 MB)` and
    `mallopt(M_TRIM_THRESHOLD, 1 GB)` stop that for blocks up to 32 MB. Process-wide and permanent; returns
    False (and changes nothing) where glibc is not the C library."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3   # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 1 << 30))


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    "Median wall time of `fn()` over `repeats` runs after `warmup` runs."
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _status_mb(field: str) -> float:
    "A memory field of /proc/self/status (VmRSS, VmHWM) in MB."
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found in /proc/self/status (Linux only)")


def _child(setup: Callable, queue) -> None:
    "Build with `setup()` -> callable, then run it once and report (resident MB, peak MB added by the run)."
    import gc
    import torch  # noqa: F401  (import cost belongs to the baseline)
    run = setup()
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:   # "5" resets the peak (VmHWM) to the current RSS
        f.write("5")
    base = _status_mb("VmRSS")
    run()
    queue.put((base, _status_mb("VmHWM") - base))


def peak_memory_mb(setup: Callable) -> tuple[float, float]:
    "(MB resident after setup, MB added at peak by one run), measured in a fresh process (Linux)."
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(setup, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def table(header: list[str], rows: list[list[object]]) -> str:
    "A markdown table."
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _release_free_heap() -> None:
    "Give freed heap memory back to the OS (glibc malloc_trim), so RSS-based peaks of later runs are not hidden."
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass   # not glibc: peaks may then be underestimated after earlier runs


def timed_peak(run: Callable[[], object]) -> tuple[float, float, object]:
    "(seconds, MB added at peak, result) of one `run()` in this process (Linux; heap trimmed before)."
    _release_free_heap()
    with open("/proc/self/clear_refs", "w") as f:   # "5" resets the peak (VmHWM) to the current RSS
        f.write("5")
    base = _status_mb("VmRSS")
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    return seconds, _status_mb("VmHWM") - base, result


def _call_child(fn: Callable, queue) -> None:
    queue.put(fn())


def in_fresh_process(fn: Callable[[], object]) -> object:
    "Run a picklable `fn()` in a fresh (spawned) process and return its picklable result."
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_call_child, args=(fn, queue))
    process.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Exception:   # queue.Empty: keep waiting while the child lives
            if not process.is_alive():
                raise RuntimeError(f"the benchmark child process died (exit code {process.exitcode})") from None
    process.join()
    if process.exitcode:
        raise RuntimeError(f"the benchmark child process exited with code {process.exitcode}")
    return result
