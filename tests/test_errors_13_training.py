"""Bad-input messages of notebook 13 (the training loop): each error names the input, the problem and the fix.
Moved out of the notebook; the errors that are lessons there (a NaN loss naming the last good checkpoint) stay."""
from __future__ import annotations

import pytest
import torch

from hierspeech_nb.training import resolve_precision


def test_precision_errors():
    with pytest.raises(ValueError, match="needs a CUDA device"):
        resolve_precision("fp16", torch.device("cpu"))
    with pytest.raises(ValueError, match="not one of"):
        resolve_precision("half", torch.device("cpu"))
