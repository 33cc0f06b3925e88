"""Yahoo S5 reader, on small files in the release's two layouts (the real data is licence-bound)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.yahoo import YAHOO_DATASET, load_yahoo_benchmark, read_yahoo_csv

A34_HEADER = "timestamps,value,anomaly,changepoint,trend,noise,seasonality1,seasonality2,seasonality3"


def a12(rows: list[tuple]) -> str:
    return "timestamp,value,is_anomaly\n" + "".join(f"{t},{v},{a}\n" for t, v, a in rows)


def a34(rows: list[tuple]) -> str:
    # timestamps,value,anomaly,changepoint + five decomposition columns
    return A34_HEADER + "\n" + "".join(f"{t},{v},{a},{c},1.0,0.1,0.2,0.3,0.4\n" for t, v, a, c in rows)


@pytest.fixture
def yahoo_root(tmp_path):
    """A miniature release: A1 with three series (numbering checks the order), A3 and A4 with one."""
    root = tmp_path / YAHOO_DATASET
    for folder in ("A1Benchmark", "A2Benchmark", "A3Benchmark", "A4Benchmark"):
        (root / folder).mkdir(parents=True)
    (root / "A1Benchmark" / "real_1.csv").write_text(a12([(1, 0.5, 0), (2, 9.0, 1)]))
    (root / "A1Benchmark" / "real_2.csv").write_text(a12([(1, 1.5, 0)]))
    (root / "A1Benchmark" / "real_10.csv").write_text(a12([(1, 2.5, 0)]))
    (root / "A2Benchmark" / "synthetic_1.csv").write_text(a12([(1416726000, 3.0, 0)]))
    (root / "A3Benchmark" / "A3Benchmark-TS1.csv").write_text(a34([(1416722400, 7.0, 1, 0), (1416726000, 8.0, 0, 0)]))
    (root / "A3Benchmark" / "A3Benchmark_all.csv").write_text("summary,not,a,series\n")
    (root / "A4Benchmark" / "A4Benchmark-TS1.csv").write_text(a34([(1416722400, 1.0, 0, 1), (1416726000, 2.0, 1, 0)]))
    return root


def test_read_a1_layout(yahoo_root):
    frame = read_yahoo_csv(yahoo_root / "A1Benchmark" / "real_1.csv")
    assert list(frame.columns) == ["timestamp", "value", "is_anomaly"]
    assert frame.dtypes.tolist() == [np.int64, np.float64, np.int8]
    assert frame["timestamp"].tolist() == [1, 2] and frame["value"].tolist() == [0.5, 9.0]
    assert frame["is_anomaly"].tolist() == [0, 1]


def test_read_a4_layout_and_changepoints(yahoo_root):
    path = yahoo_root / "A4Benchmark" / "A4Benchmark-TS1.csv"
    frame = read_yahoo_csv(path)
    assert frame["timestamp"].tolist() == [1416722400, 1416726000] and frame["timestamp"].dtype == np.int64
    assert frame["is_anomaly"].tolist() == [0, 1]  # the anomaly column alone
    assert read_yahoo_csv(path, changepoints_as_anomalies=True)["is_anomaly"].tolist() == [1, 1]


def test_load_benchmarks_long_frame(yahoo_root):
    frame = load_yahoo_benchmark(yahoo_root)
    assert list(frame.columns) == ["benchmark", "series_id", "timestamp", "value", "is_anomaly"]
    series = frame.drop_duplicates(["benchmark", "series_id"])[["benchmark", "series_id"]]
    assert series.values.tolist() == [
        ["A1", "real_1"], ["A1", "real_2"], ["A1", "real_10"], ["A2", "synthetic_1"],
        ["A3", "A3Benchmark-TS1"], ["A4", "A4Benchmark-TS1"],
    ]  # fmt: skip
    assert len(frame) == 9 and int(frame["is_anomaly"].sum()) == 3
    assert frame.loc[frame["series_id"] == "real_1", "value"].tolist() == [0.5, 9.0]


def test_load_selected_benchmarks_and_parent_folder(yahoo_root):
    only_a3 = load_yahoo_benchmark(yahoo_root.parent, benchmarks=("A3",))  # parent holding the release
    assert set(only_a3["benchmark"]) == {"A3"} and only_a3["value"].tolist() == [7.0, 8.0]
    with pytest.raises(ValueError, match="unknown Yahoo benchmarks"):
        load_yahoo_benchmark(yahoo_root, benchmarks=("A5",))


def test_missing_root_explains_the_licence(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_yahoo_benchmark(tmp_path / "nowhere")
    message = str(info.value)
    assert YAHOO_DATASET in message and "Webscope" in message and "redistributed" in message
    assert "root" in message


def test_missing_benchmark_folder(yahoo_root):
    (yahoo_root / "A2Benchmark" / "synthetic_1.csv").unlink()
    (yahoo_root / "A2Benchmark").rmdir()
    with pytest.raises(DataNotFoundError, match="A2Benchmark"):
        load_yahoo_benchmark(yahoo_root)
    assert set(load_yahoo_benchmark(yahoo_root, benchmarks=["A1", "A4"])["benchmark"]) == {"A1", "A4"}


def test_benchmark_folder_without_series(yahoo_root):
    for path in (yahoo_root / "A4Benchmark").iterdir():
        path.unlink()
    with pytest.raises(DataFormatError, match="no A4Benchmark-TSN.csv"):
        load_yahoo_benchmark(yahoo_root, benchmarks=["A4"])


def test_wrong_columns(tmp_path):
    path = tmp_path / "real_1.csv"
    path.write_text("time,value,is_anomaly\n1,2,0\n")
    with pytest.raises(DataFormatError, match=r"missing columns \['timestamp'\], unexpected columns \['time'\]") as info:
        read_yahoo_csv(path)
    assert info.value.line == 1


@pytest.mark.parametrize(
    "rows, message, line",
    [
        ("1,2.0,0\n2,abc,0\n", "non-numeric value 'abc' in column 'value'", 3),
        ("1,2.0,0\n2,,0\n", "missing value in column 'value'", 3),
        ("1,2.0,0\n2,3.0,2\n", "is_anomaly '2' is not 0 or 1", 3),
        ("1.5,2.0,0\n", "timestamp '1.5' is not an integer", 2),
        ("1,2.0\n", "missing value in column 'is_anomaly'", 2),  # a short row is not padded silently
        ("1,2.0,0\n2,3.0,0.5\n", "is_anomaly '0.5' is not 0 or 1", 3),
        ("1,2.0,0\n3,3.0,0\n2,4.0,0\n", "timestamp '2' does not come after '3'", 4),
        ("1,2.0,0\n1,3.0,0\n", "timestamp '1' does not come after '1'", 3),
    ],
)
def test_bad_values_name_the_line(tmp_path, rows, message, line):
    path = tmp_path / "real_3.csv"
    path.write_text("timestamp,value,is_anomaly\n" + rows)
    with pytest.raises(DataFormatError, match=message) as info:
        read_yahoo_csv(path)
    assert info.value.line == line and "real_3.csv" in str(info.value)


def test_a34_label_outside_0_1(tmp_path):
    path = tmp_path / "A3Benchmark-TS5.csv"
    path.write_text(a34([(1, 1.0, 0, 0), (2, 2.0, -1, 0)]))
    with pytest.raises(DataFormatError, match="anomaly '-1' is not 0 or 1") as info:
        read_yahoo_csv(path)
    assert info.value.line == 3


def test_a34_changepoint_outside_0_1_even_when_unused(tmp_path):
    path = tmp_path / "A4Benchmark-TS5.csv"
    path.write_text(a34([(1, 1.0, 0, 0), (2, 2.0, 0, 2)]))
    for as_anomalies in (False, True):
        with pytest.raises(DataFormatError, match=r"A4Benchmark-TS5.csv, line 3: changepoint '2' is not 0 or 1"):
            read_yahoo_csv(path, changepoints_as_anomalies=as_anomalies)


def test_a34_timestamps_must_increase(tmp_path):
    path = tmp_path / "A3Benchmark-TS6.csv"
    path.write_text(a34([(1416726000, 1.0, 0, 0), (1416722400, 2.0, 0, 0)]))
    with pytest.raises(DataFormatError, match=r"A3Benchmark-TS6.csv, line 3: timestamps '1416722400' does not come after"):
        read_yahoo_csv(path)


@pytest.mark.parametrize("text, message", [("", "empty file"), ("timestamp,value,is_anomaly\n", "no data rows")])
def test_empty_files(tmp_path, text, message):
    path = tmp_path / "real_1.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=message):
        read_yahoo_csv(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_yahoo_csv(tmp_path / "real_1.csv")


def test_values_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=50)
    labels = (rng.random(50) < 0.1).astype(int)
    path = tmp_path / "synthetic_7.csv"
    pd.DataFrame({"timestamp": 1416722400 + 3600 * np.arange(50), "value": values, "is_anomaly": labels}).to_csv(
        path, index=False
    )
    frame = read_yahoo_csv(path)
    np.testing.assert_array_equal(frame["value"], values)
    np.testing.assert_array_equal(frame["is_anomaly"], labels)
    assert (np.diff(frame["timestamp"]) == 3600).all()
