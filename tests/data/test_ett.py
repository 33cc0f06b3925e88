"""ETT reader, Informer 12/4/4-month borders and the train-only scaler."""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.ett import ETT_COLUMNS, ETTBorders, ett_borders, load_ett, read_ett_csv, split_ett

ROWS = {"ETTh1": 17_420, "ETTh2": 17_420, "ETTm1": 69_680, "ETTm2": 69_680}
LAST = {"ETTh": "2018-06-26 19:00:00", "ETTm": "2018-06-26 19:45:00"}  # SOURCES.md section 2


@cache
def _load(root: str, name: str) -> pd.DataFrame:
    return load_ett(name, root=root)


@pytest.fixture(scope="module")
def ett_root(real_data_dir) -> str:
    return str(real_data_dir / "ett")


# ---------------------------------------------------------------- real files


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(ROWS))
def test_real_files(ett_root, name):
    frame = _load(ett_root, name)
    assert frame.shape == (ROWS[name], 7)
    assert tuple(frame.columns) == ETT_COLUMNS
    assert (frame.dtypes == np.float64).all()
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "date"
    assert frame.index[0] == pd.Timestamp("2016-07-01 00:00:00")
    step = pd.Timedelta("1h") if name.startswith("ETTh") else pd.Timedelta("15min")
    assert frame.index[-1] == pd.Timestamp(LAST[name[:4]])
    assert (frame.index.to_series().diff().iloc[1:] == step).all()


@pytest.mark.real_data
def test_first_row_values(ett_root):
    # ETTh1.csv line 2: 2016-07-01 00:00:00,5.827000141143799,2.009000062942505,...,30.5310001373291
    first = _load(ett_root, "ETTh1").iloc[0]
    assert first["HUFL"] == 5.827000141143799
    assert first["OT"] == 30.5310001373291


@pytest.mark.real_data
@pytest.mark.parametrize(("name", "factor"), [("ETTh1", 1), ("ETTm1", 4)])
def test_split_sizes_order_and_train_only_scaler(ett_root, name, factor):
    frame = _load(ett_root, name)
    splits = split_ett(frame, name)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (8640 * factor, 2880 * factor, 2880 * factor)
    # consecutive, time-ordered, never shuffled
    pd.testing.assert_frame_equal(pd.concat([splits.train, splits.val, splits.test]), frame.iloc[: 14400 * factor])
    # scaler statistics are the train rows' (population std, like StandardScaler), not the file's
    np.testing.assert_allclose(splits.scaler.mean_, splits.train.mean().to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(splits.scaler.scale_, splits.train.std(ddof=0).to_numpy(), rtol=1e-10)
    assert not np.allclose(splits.scaler.mean_, frame.mean().to_numpy(), rtol=1e-3)
    train_scaled = splits.scaled("train")
    assert train_scaled.shape == (8640 * factor, 7) and train_scaled.dtype == np.float64
    np.testing.assert_allclose(train_scaled.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(train_scaled.std(axis=0), 1, rtol=1e-9)
    val_scaled = splits.scaled("val")
    np.testing.assert_allclose(val_scaled, (splits.val.to_numpy() - splits.scaler.mean_) / splits.scaler.scale_)
    np.testing.assert_allclose(splits.inverse_scaled(val_scaled), splits.val.to_numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.real_data
def test_split_with_lookback_and_inferred_frequency(ett_root):
    frame = _load(ett_root, "ETTm2")
    splits = split_ett(frame, name=None, lookback=96)  # frequency from the 15-min index
    assert splits.borders == ETTBorders(train=(0, 34560), val=(34464, 46080), test=(45984, 57600))
    assert splits.val.index[0] == frame.index[34464]
    assert len(splits.test) == 11520 + 96


# ---------------------------------------------------------------- borders


def test_hourly_and_minute_borders():
    assert ett_borders("ETTh1") == ETTBorders(train=(0, 8640), val=(8640, 11520), test=(11520, 14400))
    assert ett_borders("ETTh2.csv") == ett_borders("ETTh1")
    assert ett_borders("ETTm1") == ETTBorders(train=(0, 34560), val=(34560, 46080), test=(46080, 57600))


def test_lookback_starts_val_and_test_early():
    # Informer Dataset_ETT_hour: border1s = [0, 8640 - seq_len, 11520 - seq_len]
    assert ett_borders("ETTh1", lookback=336) == ETTBorders(train=(0, 8640), val=(8304, 11520), test=(11184, 14400))
    with pytest.raises(ValueError, match="lookback"):
        ett_borders("ETTh1", lookback=8641)
    with pytest.raises(ValueError, match="lookback"):
        ett_borders("ETTh1", lookback=-1)


def test_borders_from_frame_and_row_count():
    hourly = pd.DataFrame({"OT": 0.0}, index=pd.date_range("2020-01-01", periods=14400, freq="h"))
    assert ett_borders(hourly) == ett_borders("ETTh1")
    assert ett_borders(57_600, steps_per_hour=4) == ett_borders("ETTm2")
    with pytest.raises(ValueError, match="steps_per_hour"):
        ett_borders(17_420)
    with pytest.raises(ValueError, match="do not cover"):
        ett_borders(hourly.iloc[:14399])
    with pytest.raises(ValueError, match="ETTh or ETTm"):
        ett_borders("weather")
    daily = pd.DataFrame({"OT": 0.0}, index=pd.date_range("2020-01-01", periods=14400, freq="D"))
    with pytest.raises(ValueError, match="1 h or 15 min"):
        ett_borders(daily)


# ---------------------------------------------------------------- small files

HEADER = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n"


def _row(hour: int, value: str = "1.5") -> str:
    return f"2016-07-01 {hour:02d}:00:00," + ",".join([value] * 7) + "\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_small_file_and_gzip(tmp_path):
    text = HEADER + _row(0) + _row(1, "2.25") + _row(2, "-3")
    plain = read_ett_csv(_write(tmp_path / "ETTh9.csv", text))
    packed = tmp_path / "ETTh8.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    pd.testing.assert_frame_equal(read_ett_csv(packed), plain, check_like=False)
    np.testing.assert_array_equal(plain["OT"], [1.5, 2.25, -3.0])
    assert list(plain.index) == list(pd.date_range("2016-07-01", periods=3, freq="h"))


def test_load_ett_prefers_csv_then_gz(tmp_path):
    packed = tmp_path / "ETTh1.csv.gz"
    packed.write_bytes(gzip.compress((HEADER + _row(0, "7")).encode()))
    assert load_ett("ETTh1", root=tmp_path)["OT"].iloc[0] == 7
    _write(tmp_path / "ETTh1.csv", HEADER + _row(0, "8"))
    assert load_ett("ETTh1", root=tmp_path)["OT"].iloc[0] == 8
    with pytest.raises(DataNotFoundError, match=r"ETTm1.csv.gz"):
        load_ett("ETTm1", root=tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_ett_csv(tmp_path / "ETTh1.csv")


@pytest.mark.parametrize("text", ["", HEADER])
def test_empty_file(tmp_path, text):
    with pytest.raises(DataFormatError, match="empty file|no rows"):
        read_ett_csv(_write(tmp_path / "e.csv", text))


def test_wrong_columns_are_listed(tmp_path):
    text = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,temp\n" + _row(0)
    with pytest.raises(DataFormatError, match=r"missing \['OT'\]; extra \['temp'\]") as info:
        read_ett_csv(_write(tmp_path / "w.csv", text))
    assert info.value.line == 1


def test_bad_date_names_its_line(tmp_path):
    text = HEADER + _row(0) + "2016-13-45 00:00:00," + ",".join(["1"] * 7) + "\n"
    with pytest.raises(DataFormatError, match=r"d.csv, line 3: unparsable date '2016-13-45 00:00:00'"):
        read_ett_csv(_write(tmp_path / "d.csv", text))


@pytest.mark.parametrize("bad", ["abc", ""])
def test_non_numeric_value_names_its_line(tmp_path, bad):
    text = HEADER + _row(0) + _row(1) + _row(2).replace(",1.5\n", f",{bad}\n")
    with pytest.raises(DataFormatError, match=r"OT: missing or non-numeric") as info:
        read_ett_csv(_write(tmp_path / "n.csv", text))
    assert info.value.line == 4


def test_row_with_extra_field(tmp_path):
    text = HEADER + _row(0) + _row(1).replace("\n", ",9\n")
    with pytest.raises(DataFormatError) as info:
        read_ett_csv(_write(tmp_path / "x.csv", text))
    assert info.value.line == 3


def test_dates_must_increase(tmp_path):
    text = HEADER + _row(0) + _row(2) + _row(1)
    with pytest.raises(DataFormatError, match="strictly increase") as info:
        read_ett_csv(_write(tmp_path / "o.csv", text))
    assert info.value.line == 4


# ---------------------------------------------------------------- time steps and named errors (#11 "Bad input, one more pass")


@pytest.mark.parametrize(
    ("name", "rows", "line", "message"),
    [
        (
            "ETTh3.csv",
            [0, 1, 3],
            4,
            "date 2016-07-01 03:00:00 comes 0 days 02:00:00 after 2016-07-01 01:00:00; "
            "ETTh files have one row every 0 days 01:00:00",
        ),
        (
            "ETTm3.csv",
            [0, 1],
            3,
            "comes 0 days 01:00:00 after 2016-07-01 00:00:00; ETTm files have one row every 0 days 00:15:00",
        ),
        (
            "other.csv",
            [0, 2, 3],
            4,
            "comes 0 days 01:00:00 after 2016-07-01 02:00:00; "
            "rows must be evenly spaced like the first two (0 days 02:00:00 apart)",
        ),
    ],
)
def test_skipped_or_uneven_time_step(tmp_path, name, rows, line, message):
    path = _write(tmp_path / name, HEADER + "".join(_row(hour) for hour in rows))
    with pytest.raises(DataFormatError, match=re.escape(message)) as info:
        read_ett_csv(path)
    assert str(info.value).startswith(f"{path}, line {line}: ")


def test_quarter_hour_file_reads(tmp_path):
    text = HEADER + "".join(f"2016-07-01 00:{minute:02d}:00," + ",".join(["1"] * 7) + "\n" for minute in (0, 15, 30, 45))
    assert len(read_ett_csv(_write(tmp_path / "ETTm9.csv", text))) == 4


def test_split_errors_name_the_dataset_or_file(tmp_path):
    path = _write(tmp_path / "ETTh7.csv", HEADER + "".join(_row(hour) for hour in range(3)))
    frame = read_ett_csv(path)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: 3 rows do not cover the ETT test range"):
        split_ett(frame)
    with pytest.raises(ValueError, match=r"^ETTh7: 3 rows do not cover the ETT test range"):
        split_ett(frame, "ETTh7")
    with pytest.raises(ValueError, match=r"^ETTh7: frame lacks ETT columns \['OT'\]"):
        split_ett(frame.drop(columns="OT"), "ETTh7")
    with pytest.raises(ValueError, match=r"^ETTh1: lookback must lie in \[0, 8640\], got 9000"):
        ett_borders("ETTh1", lookback=9000)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: cannot infer the ETT frequency"):
        ett_borders(frame.iloc[:1])
