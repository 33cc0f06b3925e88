"""The one place that chooses the compute device and seeds the random generators."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def choose_device(preference: str | None = "auto") -> torch.device:
    """``cuda`` when present (or asked for), else ``cpu``.

    Parameters
    ----------
    preference : {"auto", "cpu", "cuda", "cuda:N", "mps"} or None
        ``"auto"``/None picks ``cuda`` when ``torch.cuda.is_available()``. The
        environment variable ``TSMTL_DEVICE`` overrides it when set.
    """
    preference = os.environ.get("TSMTL_DEVICE") or preference or "auto"
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {preference!r} requested but torch.cuda.is_available() is False")
    return device


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
