"""Nodes of ``ingest_physionet``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tsmtl.data.preprocessing.recipes import physionet_last_hours
from tsmtl.data.preprocessing.splits import stratified_split


def build_sepsis_splits(frame: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
    """Per patient: forward-fill, keep the last ``hours`` of ``features``, label septic; then split.

    Returns ``{"PhysioNet2019Sepsis": {"train", "val", "test"}}`` (stratified by
    the septic label, ``options["split"]["fractions"]``).
    """
    data = physionet_last_hours(frame, hours=int(options.get("hours", 45)), features=options.get("features"))
    data.name = "PhysioNet2019Sepsis"
    split = options.get("split", {})
    parts = stratified_split(data, fractions=tuple(split.get("fractions", (0.6, 0.2, 0.2))), seed=int(split.get("seed", 0)))
    return {data.name: parts}
