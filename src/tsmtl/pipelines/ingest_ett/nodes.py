"""Nodes of ``ingest_ett``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from tsmtl.data.ett import ETT_COLUMNS, split_ett


def split_ett_files(archive: Mapping[str, pd.DataFrame], options: dict[str, Any]) -> dict[str, Any]:
    """Time-ordered Informer split of every ETT file named in ``options["datasets"]``."""
    return {name: split_ett(archive[name], name, lookback=int(options.get("lookback", 0))) for name in options["datasets"]}


def report_ett_splits(splits: Mapping[str, Any]) -> pd.DataFrame:
    """Rows, date range and train-fitted scaler statistics per file and split."""
    rows = []
    for name, parts in splits.items():
        for split in ("train", "val", "test"):
            frame = getattr(parts, split)
            rows.append({"dataset": name, "split": split, "rows": len(frame), "start": frame.index.min(), "end": frame.index.max()})
        for column, mean, scale in zip(ETT_COLUMNS, parts.scaler.mean_, parts.scaler.scale_):
            rows.append({"dataset": name, "split": "scaler", "column": column, "train_mean": mean, "train_std": scale})
    return pd.DataFrame(rows)
