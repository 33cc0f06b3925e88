"""Nodes of the ``embedded`` pipeline (the default run's data)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from tsmtl.data.preprocessing.cleaning import adf_difference
from tsmtl.data.preprocessing.windows import sliding_windows

log = logging.getLogger(__name__)


def prepare_anomaly_windows(frame: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
    """ADF-difference an anomaly series until stationary, then cut sliding windows.

    ``frame`` has ``value`` and ``is_anomaly``. A window is labelled anomalous
    when any of its points is. Returns ``{"windows": (n_windows, window),
    "labels": (n_windows,), "d": int, "window": int, "stride": int}``.
    """
    values = frame["value"].to_numpy(dtype=np.float64)
    differenced, d = adf_difference(values, alpha=float(options.get("alpha", 0.05)), max_d=int(options.get("max_d", 2)))
    labels = frame["is_anomaly"].to_numpy()[len(values) - len(differenced) :]
    window = int(options["window"])
    stride = int(options.get("stride", window))
    windows = sliding_windows(differenced, window, stride)
    window_labels = sliding_windows(labels.astype(np.int64), window, stride).max(axis=-1)
    log.info("anomaly series: d=%d, %d windows of %d, %d anomalous", d, len(windows), window, int(window_labels.sum()))
    return {"windows": windows, "labels": window_labels, "d": d, "window": window, "stride": stride}


def report_anomaly_windows(prepared: dict[str, Any]) -> pd.DataFrame:
    """One row: differencing order, window count and anomalous windows."""
    return pd.DataFrame(
        [
            {
                "d": prepared["d"],
                "window": prepared["window"],
                "stride": prepared["stride"],
                "n_windows": len(prepared["windows"]),
                "n_anomalous": int(np.sum(prepared["labels"])),
            }
        ]
    )
