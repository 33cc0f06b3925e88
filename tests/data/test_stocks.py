"""Stock prices and earnings readers: the real shared files and small hand-made bad files."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.data.archives import make_tar
from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.stocks import (
    PRICE_COLUMNS,
    detect_date_format,
    load_stocks_5yr,
    read_earnings,
    read_individual_stock,
    read_tsaustin_prices,
)

BOM = "\ufeff"
PRICE_HEADER = "symbol,date,open,high,low,close,close_adjusted,volume,split_coefficient"
EARNINGS_HEADER = "symbol,date,qtr,eps_est,eps,release_time"
STOCK_HEADER = "date,open,high,low,close,volume,Name"


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


# ----------------------------------------------------------------------------- real files
@pytest.fixture(scope="module")
def stocks_dir(real_data_dir):
    return real_data_dir / "stocks"


@pytest.mark.real_data
def test_stocks_5yr_archive_matches_sources(stocks_dir):
    prices = load_stocks_5yr(stocks_dir / "individual_stocks_5yr.tar.gz")
    assert list(prices.columns) == list(PRICE_COLUMNS)
    assert len(prices) == 619_040 and prices["symbol"].nunique() == 505
    assert prices["date"].min() == pd.Timestamp("2013-02-08") and prices["date"].max() == pd.Timestamp("2018-02-07")
    assert prices["date"].dtype == "datetime64[ns]" and prices["close"].dtype == np.float64
    # AAPL's first row, as written in AAPL_data.csv
    aapl = prices[prices["symbol"] == "AAPL"].iloc[0]
    assert aapl["date"] == pd.Timestamp("2013-02-08")
    assert (aapl["open"], aapl["close"], aapl["volume"]) == (67.7142, 67.8542, 158168416.0)
    assert (prices["close_adjusted"] == prices["close"]).all() and (prices["split_coefficient"] == 1.0).all()
    # BHF's row "2017-07-26,,,,69.0842,3,BHF": empty prices are NaN, the rest kept
    bhf = prices[(prices["symbol"] == "BHF") & (prices["date"] == pd.Timestamp("2017-07-26"))].iloc[0]
    assert np.isnan(bhf["open"]) and bhf["close"] == 69.0842 and bhf["volume"] == 3
    # sorted by symbol, then date
    assert prices["symbol"].is_monotonic_increasing
    assert (prices.groupby("symbol")["date"].diff().dropna() > pd.Timedelta(0)).all()


@pytest.mark.real_data
def test_earnings_latest_matches_sources(stocks_dir):
    earnings = read_earnings(stocks_dir / "earnings_latest.csv")
    assert list(earnings.columns) == ["symbol", "date", "qtr", "eps_est", "eps", "release_time", "surp"]
    assert len(earnings) == 72_970 and earnings["symbol"].nunique() == 4_051
    assert earnings["date"].min() == pd.Timestamp("2012-07-16") and earnings["date"].max() == pd.Timestamp("2019-08-15")
    assert set(earnings["release_time"].dropna()) == {"pre", "post"}
    # first line "A,11/19/12,12-Oct,0.8,0.84,post,0.04": M/D/YY
    first = earnings.iloc[0]
    assert (first["symbol"], first["date"], first["qtr"]) == ("A", pd.Timestamp("2012-11-19"), "12-Oct")
    assert (first["eps_est"], first["eps"], first["release_time"], first["surp"]) == (0.8, 0.84, "post", 0.04)


@pytest.mark.real_data
def test_tsaustin_subset_prices(stocks_dir):
    prices = read_tsaustin_prices(stocks_dir / "tsaustin_subset" / "stock_prices_latest.csv")
    assert len(prices) == 44_432 and prices["symbol"].nunique() == 14
    # DD/MM/YYYY: the first date, 03/01/2000, is Jan 3 (not Mar 1)
    assert prices["date"].min() == pd.Timestamp("2000-01-03")
    assert prices["date"].max() == pd.Timestamp("2018-01-24")
    # line 2 of the file: "MSFT,16/05/2016,50.8,51.96,50.75,51.83,49.7013,20032017,1"
    row = prices[(prices["symbol"] == "MSFT") & (prices["date"] == pd.Timestamp("2016-05-16"))].iloc[0]
    assert (row["close"], row["close_adjusted"], row["volume"], row["split_coefficient"]) == (51.83, 49.7013, 20032017, 1)


@pytest.mark.real_data
def test_tsaustin_subset_earnings(stocks_dir):
    earnings = read_earnings(stocks_dir / "tsaustin_subset" / "earnings_latest.csv")
    assert "surp" not in earnings.columns
    assert len(earnings) == 532 and earnings["symbol"].nunique() == 12
    # line 2: "AAPL,21/07/2009,Jun-09,NULL,NULL,post"
    first = earnings[earnings["symbol"] == "AAPL"].iloc[0]
    assert first["date"] == pd.Timestamp("2009-07-21") and first["qtr"] == "Jun-09"
    assert np.isnan(first["eps_est"]) and np.isnan(first["eps"]) and first["release_time"] == "post"
    assert set(earnings["release_time"].dropna()) <= {"pre", "post"} and earnings["release_time"].isna().any()


# ----------------------------------------------------------------------------- date formats
@pytest.mark.parametrize(
    "dates, expected",
    [
        (["2016-05-16", "2000-01-03"], "%Y-%m-%d"),
        (["16/05/2016", "03/01/2000"], "%d/%m/%Y"),  # a day above 12 decides
        (["05/16/2016", "01/03/2000"], "%m/%d/%Y"),  # a "month" above 12 decides
        (["03/01/2000", "04/02/2000"], "%d/%m/%Y"),  # ambiguous 4-digit year: day-first rule
        (["11/19/12", "2/14/13"], "%m/%d/%y"),
        (["1/2/13", "3/4/13"], "%m/%d/%y"),  # ambiguous 2-digit year: month-first rule
    ],
)
def test_detect_date_format(dates, expected):
    assert detect_date_format(dates) == expected


def test_date_rule_override_and_contradiction():
    assert detect_date_format(["03/01/2000"], dayfirst=False) == "%m/%d/%Y"
    with pytest.raises(DataFormatError, match="contradicts"):
        detect_date_format(["16/05/2016"], dayfirst=False)
    with pytest.raises(DataFormatError, match="mix day-first .* and month-first"):
        detect_date_format(["16/05/2016", "05/16/2016"])


def test_mixed_date_formats_name_the_line(tmp_path):
    path = write(tmp_path, "p.csv", f"{PRICE_HEADER}\nX,2016-05-16,1,1,1,1,1,1,1\nX,17/05/2016,1,1,1,1,1,1,1\n")
    with pytest.raises(DataFormatError, match="does not match the column's format") as info:
        read_tsaustin_prices(path)
    assert info.value.line == 3


def test_impossible_and_missing_dates(tmp_path):
    path = write(tmp_path, "p.csv", f"{PRICE_HEADER}\nX,30/01/2016,1,1,1,1,1,1,1\nX,31/02/2016,1,1,1,1,1,1,1\n")
    with pytest.raises(DataFormatError, match="impossible date '31/02/2016'") as info:
        read_tsaustin_prices(path)
    assert info.value.line == 3
    path = write(tmp_path, "q.csv", f"{PRICE_HEADER}\nX,30/01/2016,1,1,1,1,1,1,1\nX,,1,1,1,1,1,1,1\n")
    with pytest.raises(DataFormatError, match="missing date") as info:
        read_tsaustin_prices(path)
    assert info.value.line == 3


# ----------------------------------------------------------------------------- tsaustin prices
def test_prices_bom_dayfirst_and_iso_agree(tmp_path):
    rows = [("MSFT", "2000-01-03", "1,2,0.5,1.5,0.7,100,1"), ("MSFT", "2000-01-04", "2,3,1,2.5,1.2,200,2")]
    iso = write(tmp_path, "iso.csv", PRICE_HEADER + "\n" + "\n".join(f"{s},{d},{v}" for s, d, v in rows) + "\n")
    resaved = "\n".join(f"{s},{d[8:]}/{d[5:7]}/{d[:4]},{v}" for s, d, v in reversed(rows))
    sheet = write(tmp_path, "sheet.csv", BOM + PRICE_HEADER + "\r\n" + resaved.replace("\n", "\r\n") + "\r\n")
    a, b = read_tsaustin_prices(iso), read_tsaustin_prices(sheet)
    pd.testing.assert_frame_equal(a, b)
    assert list(a["date"]) == [pd.Timestamp("2000-01-03"), pd.Timestamp("2000-01-04")]
    assert a["close_adjusted"].tolist() == [0.7, 1.2] and a["split_coefficient"].tolist() == [1.0, 2.0]


def test_prices_wrong_columns_are_named(tmp_path):
    path = write(tmp_path, "p.csv", PRICE_HEADER.replace("close_adjusted", "adj_close") + "\nX,2000-01-03,1,1,1,1,1,1,1\n")
    with pytest.raises(DataFormatError, match=r"missing columns \['close_adjusted'\]; unexpected columns \['adj_close'\]"):
        read_tsaustin_prices(path)


def test_prices_non_numeric_names_line_and_column(tmp_path):
    path = write(tmp_path, "p.csv", f"{PRICE_HEADER}\nX,2000-01-03,1,1,1,1,1,1,1\nX,2000-01-04,1,1,1,oops,1,1,1\n")
    with pytest.raises(DataFormatError, match="non-numeric value 'oops' in column 'close'") as info:
        read_tsaustin_prices(path)
    assert info.value.line == 3 and "p.csv" in str(info.value)


def test_prices_short_row_is_an_error(tmp_path):
    path = write(tmp_path, "p.csv", f"{PRICE_HEADER}\nX,2000-01-03,1,1,1,1,1,1,1\nX,2000-01-04,1,1,1,1,1,1\n")
    with pytest.raises(DataFormatError, match="expected 9 comma-separated fields, found 8") as info:
        read_tsaustin_prices(path)
    assert info.value.line == 3


@pytest.mark.parametrize("text, message", [("", "empty file"), (BOM + "\n", "empty file"), (PRICE_HEADER + "\n", "no data rows")])
def test_prices_empty_files(tmp_path, text, message):
    with pytest.raises(DataFormatError, match=message):
        read_tsaustin_prices(write(tmp_path, "p.csv", text))


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_tsaustin_prices(tmp_path / "absent.csv")


# ----------------------------------------------------------------------------- earnings
def test_earnings_nulls_release_times_and_ticker_na(tmp_path):
    text = (
        f"{EARNINGS_HEADER}\n"
        "NA,21/07/2009,Jun-09,NULL,0.45,post\n"
        "AAPL,19/10/2009,Sep-09,0.4,,PRE\n"
        "AAPL,25/01/2010,NULL,NULL,NULL,NULL\n"
    )
    earnings = read_earnings(write(tmp_path, "e.csv", BOM + text))
    assert earnings["symbol"].tolist() == ["AAPL", "AAPL", "NA"]  # the ticker "NA" is not a missing value
    assert earnings["release_time"].iloc[0] == "pre" and pd.isna(earnings["release_time"].iloc[1])
    assert pd.isna(earnings["qtr"].iloc[1]) and earnings["qtr"].iloc[2] == "Jun-09"
    np.testing.assert_array_equal(earnings["eps_est"], [0.4, np.nan, np.nan])
    np.testing.assert_array_equal(earnings["eps"], [np.nan, np.nan, 0.45])
    assert list(earnings["date"]) == [pd.Timestamp("2009-10-19"), pd.Timestamp("2010-01-25"), pd.Timestamp("2009-07-21")]


def test_earnings_bad_release_time(tmp_path):
    path = write(tmp_path, "e.csv", f"{EARNINGS_HEADER}\nA,11/19/12,12-Oct,0.8,0.84,post\nA,2/14/13,13-Jan,0.66,0.63,during\n")
    with pytest.raises(DataFormatError, match="release_time 'during'") as info:
        read_earnings(path)
    assert info.value.line == 3


def test_earnings_non_numeric_eps(tmp_path):
    path = write(tmp_path, "e.csv", f"{EARNINGS_HEADER},surp\nA,11/19/12,12-Oct,0.8,0.84,post,x1\n")
    with pytest.raises(DataFormatError, match="non-numeric value 'x1' in column 'surp'") as info:
        read_earnings(path)
    assert info.value.line == 2


def test_earnings_wrong_columns(tmp_path):
    path = write(tmp_path, "e.csv", "symbol,date,eps\nA,11/19/12,1\n")
    with pytest.raises(DataFormatError, match=r"missing columns \['qtr', 'eps_est', 'release_time'\]"):
        read_earnings(path)


# ----------------------------------------------------------------------------- individual stocks
def stock_csv(ticker: str, rows: list[str]) -> str:
    return STOCK_HEADER + "\n" + "\n".join(f"{row},{ticker}" for row in rows) + "\n"


def test_individual_stock_normalised(tmp_path):
    path = write(tmp_path, "ZZ_data.csv", stock_csv("ZZ", ["2013-02-11,2,3,1,2.5,200", "2013-02-08,,,,1.5,100"]))
    frame = read_individual_stock(path)
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert list(frame["date"]) == [pd.Timestamp("2013-02-08"), pd.Timestamp("2013-02-11")]
    assert np.isnan(frame["open"].iloc[0]) and frame["close"].tolist() == [1.5, 2.5]
    assert frame["close_adjusted"].tolist() == [1.5, 2.5] and frame["split_coefficient"].tolist() == [1.0, 1.0]
    assert frame["symbol"].tolist() == ["ZZ", "ZZ"]


def test_individual_stock_name_must_match_file(tmp_path):
    path = write(tmp_path, "ZZ_data.csv", stock_csv("ZZ", ["2013-02-08,1,1,1,1,1"]).replace(",ZZ\n", ",YY\n"))
    with pytest.raises(DataFormatError, match="Name 'YY' differs from the ticker 'ZZ'") as info:
        read_individual_stock(path)
    assert info.value.line == 2


def test_stocks_5yr_folder_archive_and_slow_path_agree(tmp_path):
    members = {
        "BB_data.csv": stock_csv("BB", ["2013-02-08,1,2,0.5,1.5,10", "2013-02-11,2,3,1,2.5,20"]),
        "AA_data.csv": stock_csv("AA", ["2013-02-08,5,6,4,5.5,30"]),
    }
    folder = tmp_path / "individual_stocks_5yr"
    folder.mkdir()
    for name, text in members.items():
        (folder / name).write_text(text)
    (folder / "all_stocks_5yr.csv").write_text("not read")
    archive = tmp_path / "s.tar.gz"
    make_tar(archive, {f"individual_stocks_5yr/{k}": v for k, v in members.items()})
    from_folder, from_archive = load_stocks_5yr(folder), load_stocks_5yr(archive)
    pd.testing.assert_frame_equal(from_folder, from_archive)
    assert from_folder["symbol"].tolist() == ["AA", "BB", "BB"] and from_folder["close"].tolist() == [5.5, 1.5, 2.5]
    # a BOM on one member leaves the one-call fast path: same result member by member
    (folder / "AA_data.csv").write_text(BOM + members["AA_data.csv"])
    pd.testing.assert_frame_equal(load_stocks_5yr(folder), from_folder)


def test_stocks_5yr_bad_member_is_named(tmp_path):
    archive = tmp_path / "s.tar.gz"
    make_tar(
        archive,
        {
            "d/AA_data.csv": stock_csv("AA", ["2013-02-08,5,6,4,5.5,30"]),
            "d/BB_data.csv": stock_csv("BB", ["2013-02-08,1,2,0.5,1.5,10", "2013-02-11,2,3,1,bad,20"]),
        },
    )
    with pytest.raises(DataFormatError, match=r"s\.tar\.gz::d/BB_data\.csv, line 3: non-numeric value 'bad'"):
        load_stocks_5yr(archive)


def test_stocks_5yr_missing_and_empty(tmp_path):
    with pytest.raises(DataNotFoundError, match="TSMTL_DATA_DIR"):
        load_stocks_5yr(tmp_path / "absent")
    with pytest.raises(DataFormatError, match="no <TICKER>_data.csv"):
        load_stocks_5yr(tmp_path)


# ----------------------------------------------------------------------------- values against their meaning (#11)
PRICE_ROW = {
    "open": "1",
    "high": "2",
    "low": "0.5",
    "close": "1.5",
    "close_adjusted": "0.7",
    "volume": "100",
    "split_coefficient": "1",
}


def price_line(symbol: str, date: str, **cells: str) -> str:
    values = {**PRICE_ROW, **cells}
    return ",".join([symbol, date, *(values[c] for c in PRICE_COLUMNS[2:])])


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"close": "0"}, "column 'close': 0 is not a positive price"),
        ({"close_adjusted": "-1.2"}, "column 'close_adjusted': -1.2 is not a positive price"),
        ({"split_coefficient": "0"}, "column 'split_coefficient': 0 is not a positive ratio"),
        ({"volume": "1.5"}, "column 'volume': 1.5 is not a whole, non-negative number of shares"),
        ({"volume": "-3"}, "column 'volume': -3 is not a whole, non-negative number of shares"),
        ({"open": "inf"}, "column 'open': inf is infinite"),
    ],
)
def test_prices_value_outside_its_meaning(tmp_path, cells, message):
    text = f"{PRICE_HEADER}\n{price_line('X', '2000-01-03')}\n{price_line('X', '2000-01-04', **cells)}\n"
    path = write(tmp_path, "p.csv", text)
    with pytest.raises(DataFormatError, match=re.escape(f"p.csv, line 3: {message}")):
        read_tsaustin_prices(path)


def test_prices_missing_values_pass(tmp_path):
    text = f"{PRICE_HEADER}\n{price_line('X', '2000-01-03', open='NULL', volume='')}\n"
    frame = read_tsaustin_prices(write(tmp_path, "p.csv", text))
    assert np.isnan(frame["open"].iloc[0]) and np.isnan(frame["volume"].iloc[0])


def test_prices_two_rows_for_one_day(tmp_path):
    text = f"{PRICE_HEADER}\n{price_line('X', '2000-01-03')}\n{price_line('Y', '2000-01-03')}\n{price_line('X', '2000-01-03')}\n"
    path = write(tmp_path, "p.csv", text)
    with pytest.raises(
        DataFormatError, match=r"p.csv, line 4: X has a second price row for 2000-01-03 \(the first is on line 2\)"
    ):
        read_tsaustin_prices(path)


@pytest.mark.parametrize("quarter", ["Q5", "2017-06", "June-09", "17-jun"])
def test_earnings_quarter_outside_the_written_forms(tmp_path, quarter):
    path = write(tmp_path, "e.csv", f"{EARNINGS_HEADER}\nA,11/19/12,12-Oct,0.8,0.84,post\nA,2/14/13,{quarter},0.66,0.63,pre\n")
    with pytest.raises(
        DataFormatError, match=re.escape(f"e.csv, line 3: qtr {quarter!r} is not YY-Mon (17-Jun), Mon-YY (Jun-09)")
    ):
        read_earnings(path)


def test_earnings_infinite_eps(tmp_path):
    path = write(tmp_path, "e.csv", f"{EARNINGS_HEADER}\nA,11/19/12,12-Oct,0.8,-inf,post\n")
    with pytest.raises(DataFormatError, match=r"e.csv, line 2: column 'eps': -inf is infinite"):
        read_earnings(path)


def test_earnings_two_releases_on_one_day(tmp_path):
    path = write(tmp_path, "e.csv", f"{EARNINGS_HEADER}\nA,11/19/12,12-Oct,0.8,0.84,post\nA,11/19/12,12-Oct,0.8,0.84,pre\n")
    with pytest.raises(
        DataFormatError, match=r"e.csv, line 3: A has a second earnings row for 2012-11-19 \(the first is on line 2\)"
    ):
        read_earnings(path)


def test_individual_stock_bad_price_and_repeated_day(tmp_path):
    path = write(tmp_path, "ZZ_data.csv", stock_csv("ZZ", ["2013-02-08,1,1,1,1,1", "2013-02-11,1,1,1,-1.5,1"]))
    with pytest.raises(DataFormatError, match=r"ZZ_data.csv, line 3: column 'close': -1.5 is not a positive price"):
        read_individual_stock(path)
    path = write(tmp_path, "ZZ_data.csv", stock_csv("ZZ", ["2013-02-08,1,1,1,1,1", "2013-02-08,1,1,1,1,1"]))
    with pytest.raises(DataFormatError, match=r"ZZ_data.csv, line 3: ZZ has a second price row for 2013-02-08"):
        read_individual_stock(path)


def test_stocks_5yr_bad_value_names_its_member(tmp_path):
    """The one-call fast path finds the bad value too, then the member-by-member path names it."""
    archive = tmp_path / "s.tar.gz"
    make_tar(
        archive,
        {
            "d/AA_data.csv": stock_csv("AA", ["2013-02-08,5,6,4,5.5,30"]),
            "d/BB_data.csv": stock_csv("BB", ["2013-02-08,1,2,0.5,1.5,10", "2013-02-11,2,3,1,2.5,-20"]),
        },
    )
    with pytest.raises(DataFormatError, match=r"s\.tar\.gz::d/BB_data\.csv, line 3: column 'volume': -20 is not a whole"):
        load_stocks_5yr(archive)
