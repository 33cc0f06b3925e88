import re

import numpy as np
import pandas as pd
import pytest

from tsmtl.data.earnings import earnings_move_windows


def _prices():
    dates = pd.bdate_range("2020-01-01", periods=10)
    close = np.array([10, 11, 12, 13, 14, 15, 16, 17, 18, 20.0])
    return pd.DataFrame({"symbol": "AAA", "date": dates, "close_adjusted": close}), dates


def test_pre_and_post_release_timing_and_labels():
    prices, dates = _prices()
    earnings = pd.DataFrame(
        {
            "symbol": ["AAA", "AAA", "AAA"],
            "date": [dates[5], dates[5], dates[8]],
            "release_time": ["pre", "post", "post"],
        }
    )
    data, events = earnings_move_windows(prices, earnings, lookback=3, threshold=0.1)
    # pre on day 5: observed closes days 2..4, reaction day 5
    np.testing.assert_array_equal(data.X[0, 0], [12, 13, 14, 15])
    # post on day 5: observed closes days 3..5, reaction day 6
    np.testing.assert_array_equal(data.X[1, 0], [13, 14, 15, 16])
    # post on day 8: reaction day 9: 20/18 - 1 = 0.111 >= 0.1 -> class 1
    np.testing.assert_array_equal(data.X[2, 0], [16, 17, 18, 20])
    np.testing.assert_array_equal(data.y, [0, 0, 1])
    assert events["ret"].iloc[2] == pytest.approx(20 / 18 - 1)


def test_skips_are_counted():
    prices, dates = _prices()
    earnings = pd.DataFrame(
        {
            "symbol": ["AAA", "AAA", "AAA", "BBB"],
            "date": [dates[1], dates[9], dates[5], dates[5]],
            "release_time": ["pre", "post", None, "pre"],
        }
    )
    data, events = earnings_move_windows(prices, earnings, lookback=3)
    assert data.n_cases == 0
    assert events.attrs["skipped"] == {
        "no_release_time": 1,
        "no_prices": 1,
        "too_little_history": 1,
        "no_reaction_day": 1,
    }


def test_missing_columns_raise():
    prices, _ = _prices()
    with pytest.raises(ValueError, match="earnings frame lacks"):
        earnings_move_windows(prices, pd.DataFrame({"symbol": [], "date": []}))


def test_errors_name_the_file_the_frame_came_from(tmp_path):
    from tsmtl.data.stocks import read_tsaustin_prices

    path = tmp_path / "stock_prices_latest.csv"
    path.write_text(
        "symbol,date,open,high,low,close,close_adjusted,volume,split_coefficient\nAAA,2020-01-02,1,1,1,1,1,10,1\n"
    )
    prices = read_tsaustin_prices(path)
    assert prices.attrs["source"] == str(path)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: prices frame lacks columns \['close_adjusted'\]"):
        earnings_move_windows(prices.drop(columns="close_adjusted"), pd.DataFrame(columns=["symbol", "date", "release_time"]))
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: lookback must be >= 1, got 0"):
        earnings_move_windows(prices, pd.DataFrame(columns=["symbol", "date", "release_time"]), lookback=0)
