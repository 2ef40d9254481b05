"""Golden MAS tests: our naive and vectorised monotonic alignment search against the official Cython
`maximum_path` outputs in ../shared/reference/golden/mas_paths.pt (golden README, "MAS (`mas_paths.pt`)").

Tolerances: none. Paths and durations are integers (compared with torch.equal). The DP table is float32
accumulated with the same additions in the same order as the Cython code, so it must also be bit-identical
(atol 0) on the visited band; outside the band both keep the raw float32 `neg_cent`, which we check too.
Measured: bit-identical for every case, both implementations.
Cases, shapes and lengths all come from the fixture."""
from __future__ import annotations

import warnings

import pytest
import torch

from hierspeech_nb.mas import (alignment_lengths, mas_table, mas_table_naive, maximum_path, maximum_path_naive,
                               maximum_path_numba, maximum_path_torch, path_durations)

CASES = ["uneven", "square", "text_longer_than_frames"]
IMPLEMENTATIONS = {"naive": (maximum_path_naive, mas_table_naive), "vectorised": (maximum_path_torch, mas_table)}
PATH_IMPLEMENTATIONS = {**{name: fn for name, (fn, _) in IMPLEMENTATIONS.items()},
                        "compiled": maximum_path_numba, "default": maximum_path}  # tables: naive and vectorised only


@pytest.fixture(scope="module")
def mas_fixture(golden_dir):
    return torch.load(golden_dir / "mas_paths.pt", weights_only=True)


def _visited(frame_lengths: torch.Tensor, text_lengths: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    "Bool [b, t_frames, t_text]: the cells the official DP visits, max(0, T_x+y-T_y) <= x <= min(T_x-1, y)."
    frames = torch.arange(shape[1])[None, :, None]
    tokens = torch.arange(shape[2])[None, None, :]
    t_y = frame_lengths[:, None, None]
    t_x = text_lengths[:, None, None]
    return (frames < t_y) & (tokens >= t_x + frames - t_y) & (tokens <= torch.minimum(t_x - 1, frames))


def _run(function, case):
    "Call `function(neg_cent, mask)`, expecting a warning exactly when some item has more tokens than frames."
    infeasible = bool((case["text_lengths"] > case["frame_lengths"]).any())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(case["neg_cent"], case["mask"])
    messages = [str(w.message) for w in caught if "more tokens than frames" in str(w.message)]
    assert bool(messages) == infeasible, f"warnings {messages} but infeasible={infeasible}"
    return result


def test_fixture_has_the_documented_cases(mas_fixture):
    assert set(CASES) <= set(mas_fixture), sorted(mas_fixture)


@pytest.mark.parametrize("case_name", CASES)
def test_lengths_from_mask(mas_fixture, case_name):
    case = mas_fixture[case_name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame_lengths, text_lengths = alignment_lengths(case["mask"])
    assert torch.equal(frame_lengths, case["frame_lengths"])
    assert torch.equal(text_lengths, case["text_lengths"])


@pytest.mark.parametrize("implementation", list(PATH_IMPLEMENTATIONS))
@pytest.mark.parametrize("case_name", CASES)
def test_path_and_durations(mas_fixture, case_name, implementation):
    case = mas_fixture[case_name]
    maximum_path_fn = PATH_IMPLEMENTATIONS[implementation]
    path = _run(maximum_path_fn, case)
    assert path.dtype == case["path"].dtype and path.shape == case["path"].shape
    assert torch.equal(path, case["path"]), f"{case_name}: first differing item " \
        f"{int((path != case['path']).flatten(1).any(1).nonzero()[0])}"
    assert torch.equal(path_durations(path), case["durations"])


@pytest.mark.parametrize("implementation", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("case_name", CASES)
def test_dp_table(mas_fixture, case_name, implementation):
    case = mas_fixture[case_name]
    _, table_fn = IMPLEMENTATIONS[implementation]
    table = _run(table_fn, case)
    visited = _visited(case["frame_lengths"], case["text_lengths"], case["dp_values"].shape)
    assert table.dtype == torch.float32
    assert torch.equal(table[visited], case["dp_values"][visited])                  # atol 0 on the band
    assert torch.equal(table[~visited], case["neg_cent"].float()[~visited])         # raw values elsewhere
    assert torch.equal(case["dp_values"][~visited], case["neg_cent"].float()[~visited])
