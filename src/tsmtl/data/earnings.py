"""Stock moves after quarterly earnings (ForeClassNet paper, Sec. 5.2).

"Based on the 40 previous daily adjusted closing prices of a given stock, will
a company's adjusted closing price increase by 5 % or more the day after the
release of its quarterly earnings." Each example is the ``lookback`` closes
before the release followed by the first close after it (so a series of
``lookback + 1`` points whose last point is the forecast target), labelled 1
when that close is at least ``threshold`` above the previous close.

Timing (``release_time``): ``pre`` (before the market opens on date D): the
previous close is D-1's and the reaction close is D's. ``post`` (after the
close on D): the previous close is D's and the reaction close is the next
trading day's. A release with no ``release_time`` is skipped (its timing, and
so its reaction day, is unknown); the count is returned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsmtl.data.preprocessing.conventions import frame_label
from tsmtl.data.types import TimeSeriesData


def earnings_move_windows(
    prices: pd.DataFrame,
    earnings: pd.DataFrame,
    lookback: int = 40,
    threshold: float = 0.05,
    price_column: str = "close_adjusted",
) -> tuple[TimeSeriesData, pd.DataFrame]:
    """Build the ForeClassNet earnings-move dataset.

    Parameters
    ----------
    prices : DataFrame
        Columns ``symbol``, ``date`` and ``price_column`` (one row per trading day).
    earnings : DataFrame
        Columns ``symbol``, ``date``, ``release_time`` (``pre``/``post``/NaN).
    lookback : int
        Closes before the release kept as the observed series (paper: 40).
    threshold : float
        Relative rise of the reaction close over the previous close for class 1.

    Returns
    -------
    data : TimeSeriesData
        X (n_events, 1, lookback + 1): the ``lookback`` closes up to the
        previous close, then the reaction close; y in {0, 1}.
    events : DataFrame
        One row per kept event (symbol, date, release_time, previous_close,
        reaction_close, ret), plus ``attrs["skipped"]`` counting dropped
        releases by reason.

    Raises
    ------
    ValueError
        A frame without the columns named above, or ``lookback < 1``; the message
        names the frame's source file (``attrs["source"]``, set by the readers of
        :mod:`tsmtl.data.stocks`).
    """
    for frame, cols, what in (
        (prices, {"symbol", "date", price_column}, "prices"),
        (earnings, {"symbol", "date", "release_time"}, "earnings"),
    ):
        missing = cols - set(frame.columns)
        if missing:
            raise ValueError(f"{frame_label(frame, what + ' frame')}: {what} frame lacks columns {sorted(missing)}")
    if lookback < 1:
        raise ValueError(f"{frame_label(prices, 'prices frame')}: lookback must be >= 1, got {lookback}")

    skipped = {"no_release_time": 0, "no_prices": 0, "too_little_history": 0, "no_reaction_day": 0}
    windows: list[np.ndarray] = []
    rows: list[dict] = []
    by_symbol = {s: g.sort_values("date") for s, g in prices.groupby("symbol", sort=False)}
    for event in earnings.sort_values(["symbol", "date"]).itertuples(index=False):
        timing = event.release_time
        if not isinstance(timing, str) or timing not in ("pre", "post"):
            skipped["no_release_time"] += 1
            continue
        series = by_symbol.get(event.symbol)
        if series is None:
            skipped["no_prices"] += 1
            continue
        dates = series["date"].to_numpy()
        values = series[price_column].to_numpy(dtype=np.float64)
        day = np.datetime64(pd.Timestamp(event.date))
        # index of the reaction close: first trading day >= D (pre) or > D (post)
        side = "left" if timing == "pre" else "right"
        reaction = int(np.searchsorted(dates, day, side=side))
        if reaction >= len(dates):
            skipped["no_reaction_day"] += 1
            continue
        if reaction < lookback:
            skipped["too_little_history"] += 1
            continue
        window = values[reaction - lookback : reaction + 1]
        if not np.all(np.isfinite(window)) or window[-2] <= 0:
            skipped["no_prices"] += 1
            continue
        ret = window[-1] / window[-2] - 1.0
        windows.append(window)
        rows.append(
            {
                "symbol": event.symbol,
                "date": pd.Timestamp(event.date),
                "release_time": timing,
                "previous_close": window[-2],
                "reaction_close": window[-1],
                "ret": ret,
            }
        )
    X = np.stack(windows)[:, None, :] if windows else np.empty((0, 1, lookback + 1))
    events = pd.DataFrame(rows, columns=["symbol", "date", "release_time", "previous_close", "reaction_close", "ret"])
    events.attrs["skipped"] = skipped
    y = (events["ret"].to_numpy() >= threshold).astype(np.int64)
    data = TimeSeriesData(
        X=X,
        y=y,
        lengths=np.full(len(X), lookback + 1),
        name="EarningsMoves",
        meta={"lookback": lookback, "threshold": threshold, "price_column": price_column, "skipped": skipped},
    )
    return data, events
