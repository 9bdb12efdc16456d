"""Shared test set-up: CPU, 2 threads, deterministic seeds, tiny 64² fixtures."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
# FID feature caches of end-to-end tests stay out of the user's ~/.cache.
os.environ.setdefault("INPAINT_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"inpaint-test-cache-{os.getpid()}"))

import numpy as np
import pytest
import torch
from _threads import THREADS

_set_num_threads = torch.set_num_threads


def _capped_set_num_threads(threads: int) -> None:
    """Code under test may ask for any thread count; a test process never takes more than its share of cores."""
    _set_num_threads(min(int(threads), THREADS))


torch.set_num_threads = _capped_set_num_threads
torch.set_num_threads(THREADS)


@pytest.fixture(autouse=True)
def _seed_everything():
    torch.manual_seed(0)
    np.random.seed(0)
    yield
    torch.set_num_threads(THREADS)  # a test that changed the thread count does not leak it into the next


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
