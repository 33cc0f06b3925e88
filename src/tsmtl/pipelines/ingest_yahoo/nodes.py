"""Nodes of ``ingest_yahoo``."""

from __future__ import annotations

import pandas as pd


def report_yahoo(frame: pd.DataFrame) -> pd.DataFrame:
    """Per benchmark: series, points and anomaly rate."""
    grouped = frame.groupby("benchmark")
    return pd.DataFrame(
        {
            "n_series": grouped["series_id"].nunique(),
            "n_points": grouped.size(),
            "anomaly_rate": grouped["is_anomaly"].mean(),
        }
    ).reset_index()


def to_primary(frame: pd.DataFrame) -> pd.DataFrame:
    """The validated long frame, sorted by benchmark, series and timestamp."""
    return frame.sort_values(["benchmark", "series_id", "timestamp"]).reset_index(drop=True)
