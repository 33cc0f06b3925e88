"""The one place that chooses the compute device and seeds the random generators."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from tsmtl.training.distributed import local_rank, requested_world_size


def choose_device(preference: str | None = "auto") -> torch.device:
    """``cuda`` when present (or asked for), else ``cpu``.

    Parameters
    ----------
    preference : {"auto", "cpu", "cuda", "cuda:N", "mps"} or None
        ``"auto"``/None picks ``cuda`` when ``torch.cuda.is_available()``. The
        environment variable ``TSMTL_DEVICE`` overrides it when set.

    Under ``torchrun`` with several processes (``WORLD_SIZE > 1``, issue #10) ``cuda`` without an
    index (also from ``"auto"``) is ``cuda:<LOCAL_RANK>``, made the current CUDA device: one GPU
    per process (:mod:`tsmtl.training.distributed`).
    """
    preference = os.environ.get("TSMTL_DEVICE") or preference or "auto"
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {preference!r} requested but torch.cuda.is_available() is False")
    if device.type == "cuda" and device.index is None and requested_world_size() > 1:
        device = torch.device("cuda", local_rank())
        torch.cuda.set_device(device)
    return device


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
