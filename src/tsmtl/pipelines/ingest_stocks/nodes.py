"""Nodes of ``ingest_stocks``."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from tsmtl.data.earnings import earnings_move_windows

log = logging.getLogger(__name__)


def build_earnings_moves(prices: pd.DataFrame, earnings: pd.DataFrame, options: dict[str, Any]) -> tuple[dict, pd.DataFrame]:
    """The ForeClassNet earnings-move examples as one task ``{"EarningsMoves": {"all": ...}}``."""
    data, events = earnings_move_windows(
        prices, earnings, lookback=int(options.get("lookback", 40)), threshold=float(options.get("threshold", 0.05))
    )
    log.info("earnings moves: %d events kept, skipped %s", data.n_cases, events.attrs["skipped"])
    return {data.name: {"all": data}}, events
