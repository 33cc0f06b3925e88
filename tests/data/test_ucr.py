"""UCR 2018 reader: every dataset in shared/data/ucr against SOURCES.md, and every bad-input case."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.ucr import available_ucr_datasets, load_ucr_dataset, read_ucr_file

# SOURCES.md section 1: name -> (train cases, test cases or None, width, classes)
EXPECTED = {
    **{f"AllGestureWiimote{a}": (300, 700, 500, 10) for a in "XYZ"},
    **{f"Cricket{a}": (390, 390, 300, 12) for a in "XYZ"},
    "DodgerLoopDay": (78, 80, 288, 7),
    "DodgerLoopGame": (20, 138, 288, 2),
    "DodgerLoopWeekend": (20, 138, 288, 2),
    "ECG200": (100, 100, 96, 2),
    "ECG5000": (500, 4500, 140, 5),
    "ECGFiveDays": (23, 861, 136, 2),
    **{f"GestureMidAirD{i}": (208, 130, 360, 26) for i in (1, 2, 3)},
    "NonInvasiveFetalECGThorax1": (1800, 1965, 750, 42),
    "NonInvasiveFetalECGThorax2": (1800, 1965, 750, 42),
    "TwoLeadECG": (23, 1139, 82, 2),
    **{f"UWaveGestureLibrary{a}": (896, None, 315, 8) for a in "XYZ"},
}


@cache
def _load(root: str, name: str):
    """Each real dataset is read once per test session (the FetalECG files are 16 MB)."""
    return load_ucr_dataset(name, root=root)


@pytest.fixture(scope="module")
def ucr_root(real_data_dir) -> str:
    return str(real_data_dir / "ucr")


# ---------------------------------------------------------------- real files


@pytest.mark.real_data
def test_every_dataset_in_the_folder_is_checked(ucr_root):
    assert available_ucr_datasets(ucr_root) == sorted(EXPECTED)


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_width_and_classes_match_sources(ucr_root, name):
    n_train, n_test, width, n_classes = EXPECTED[name]
    splits = _load(ucr_root, name)
    assert set(splits) == ({"train"} if n_test is None else {"train", "test"})
    for split, n_cases in (("train", n_train), ("test", n_test)):
        if n_cases is None:
            continue
        data = splits[split]
        assert data.name == name
        assert data.X.shape == (n_cases, 1, width)
        assert data.X.dtype == np.float64
        assert len(data.classes) == n_classes
        # lengths are the true lengths: last value observed, everything after it NaN
        rows = np.arange(n_cases)
        assert np.isfinite(data.X[rows, 0, data.lengths - 1]).all()
        after = np.arange(width)[None, :] >= data.lengths[:, None]
        assert np.isnan(data.X[:, 0, :][after]).all()


@pytest.mark.real_data
def test_ecg200_keeps_minus_one_and_one(ucr_root):
    train = _load(ucr_root, "ECG200")["train"]
    assert set(train.y.tolist()) == {-1, 1}
    assert train.y.dtype == np.int64
    # first line of ECG200_TRAIN.tsv: "-1\t0.50205548\t0.54216265\t..."
    assert train.y[0] == -1
    np.testing.assert_allclose(train.X[0, 0, :2], [0.50205548, 0.54216265])


@pytest.mark.real_data
def test_all_gesture_wiimote_x_true_lengths(ucr_root):
    splits = _load(ucr_root, "AllGestureWiimoteX")
    lengths = np.concatenate([splits["train"].lengths, splits["test"].lengths])
    assert splits["train"].n_timepoints == 500
    assert lengths.min() == 2 and lengths.max() == 385
    assert not splits["train"].equal_length


@pytest.mark.real_data
@pytest.mark.parametrize("name", ["GestureMidAirD1", "GestureMidAirD2", "GestureMidAirD3"])
def test_gesture_mid_air_lengths(ucr_root, name):
    splits = _load(ucr_root, name)
    lengths = np.concatenate([splits["train"].lengths, splits["test"].lengths])
    assert lengths.min() == 80 and lengths.max() == 360


@pytest.mark.real_data
@pytest.mark.parametrize("name", ["DodgerLoopDay", "DodgerLoopGame", "DodgerLoopWeekend"])
def test_dodger_loop_gaps_stay_nan_inside_full_length_series(ucr_root, name):
    for data in _load(ucr_root, name).values():
        # every day ends with an observed value: the gaps are interior, not padding
        assert (data.lengths == 288).all()
        assert data.equal_length
    train = _load(ucr_root, name)["train"]
    assert np.isnan(train.X).any()


@pytest.mark.real_data
def test_uwave_x_has_train_only(ucr_root):
    splits = _load(ucr_root, "UWaveGestureLibraryX")
    assert "test" not in splits
    assert splits["train"].n_cases == 896


# ---------------------------------------------------------------- small files


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_small_file_values_labels_and_lengths(tmp_path):
    path = _write(tmp_path / "Tiny_TRAIN.tsv", "1\t0.5\t1.5\tNaN\tNaN\n-1\t2\tNaN\t3\t4\n1\t7\t8\t9\tNaN\n")
    data = read_ucr_file(path)
    assert data.name == "Tiny"
    assert data.X.shape == (3, 1, 4)
    np.testing.assert_array_equal(data.y, [1, -1, 1])
    np.testing.assert_array_equal(data.lengths, [2, 4, 3])
    np.testing.assert_array_equal(data.X[1, 0], [2, np.nan, 3, 4])  # interior gap kept


def test_gzip_and_ts_files_read_like_tsv(tmp_path):
    text = "3\t1.0\t2.0\t3.0\n5\t4.0\t5.0\t6.0\n"
    plain = read_ucr_file(_write(tmp_path / "A_TEST.tsv", text))
    packed = tmp_path / "A_TEST.tsv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    zipped = read_ucr_file(packed)
    ts = read_ucr_file(
        _write(
            tmp_path / "A_TEST.ts",
            "@problemName A\n@timeStamps false\n@univariate true\n@equalLength true\n"
            "@classLabel true 3 5\n@data\n1.0,2.0,3.0:3\n4.0,5.0,6.0:5\n",
        )
    )
    for other in (zipped, ts):
        assert other.name == "A"
        np.testing.assert_array_equal(other.X, plain.X)
        np.testing.assert_array_equal(other.y, plain.y)
        np.testing.assert_array_equal(other.lengths, [3, 3])


def test_multivariate_ts_is_rejected(tmp_path):
    path = _write(
        tmp_path / "M_TRAIN.ts",
        "@problemName M\n@univariate false\n@dimensions 2\n@equalLength true\n@classLabel true a b\n@data\n"
        "1,2:3,4:a\n5,6:7,8:b\n",
    )
    with pytest.raises(DataFormatError, match="2 channels"):
        read_ucr_file(path)


def test_load_flat_layout_and_train_only(tmp_path):
    _write(tmp_path / "Flat_TRAIN.tsv", "1\t1\t2\n2\t3\t4\n")
    splits = load_ucr_dataset("Flat", root=tmp_path)
    assert set(splits) == {"train"}
    assert available_ucr_datasets(tmp_path) == ["Flat"]


def test_missing_dataset_says_how_to_download(tmp_path):
    with pytest.raises(DataNotFoundError, match="kedro run --pipelines download_ucr") as info:
        load_ucr_dataset("Nope", root=tmp_path)
    assert "Nope_TRAIN.tsv" in str(info.value)
    assert available_ucr_datasets(tmp_path / "absent") == []


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="X_TRAIN.tsv"):
        read_ucr_file(tmp_path / "X_TRAIN.tsv")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    path = _write(tmp_path / "E_TRAIN.tsv", text)
    with pytest.raises(DataFormatError, match="empty file") as info:
        read_ucr_file(path)
    assert "E_TRAIN.tsv" in str(info.value)


def test_empty_gzip_file(tmp_path):
    path = tmp_path / "E_TRAIN.tsv.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(DataFormatError, match="empty file"):
        read_ucr_file(path)


def test_non_numeric_value_names_its_line(tmp_path):
    path = _write(tmp_path / "B_TRAIN.tsv", "1\t1\t2\n2\t3\t4\n1\t5\tabc\n")
    with pytest.raises(DataFormatError, match=r"B_TRAIN.tsv, line 3: non-numeric value 'abc'") as info:
        read_ucr_file(path)
    assert info.value.line == 3


@pytest.mark.parametrize(
    ("text", "line"),
    [("1\t1\t2\t3\n2\t3\t4\n", 2), ("1\t1\t2\n2\t3\t4\t5\n", 2), ("1\t1\t2\n2\t3\t4\n1\t1\n", 3)],
)
def test_ragged_row(tmp_path, text, line):
    path = _write(tmp_path / "R_TRAIN.tsv", text)
    with pytest.raises(DataFormatError, match="rectangular") as info:
        read_ucr_file(path)
    assert info.value.line == line


def test_label_only_row(tmp_path):
    path = _write(tmp_path / "L_TRAIN.tsv", "1\t1\t2\n2\n")
    with pytest.raises(DataFormatError, match="only a label") as info:
        read_ucr_file(path)
    assert info.value.line == 2


@pytest.mark.parametrize("label", ["NaN", "inf"])
def test_non_finite_label(tmp_path, label):
    path = _write(tmp_path / "N_TRAIN.tsv", f"1\t1\t2\n{label}\t3\t4\n")
    with pytest.raises(DataFormatError, match="class label") as info:
        read_ucr_file(path)
    assert info.value.line == 2


def test_blank_line_inside(tmp_path):
    path = _write(tmp_path / "K_TRAIN.tsv", "1\t1\t2\n\n2\t3\t4\n")
    with pytest.raises(DataFormatError, match="blank line") as info:
        read_ucr_file(path)
    assert info.value.line == 2


def test_all_nan_series(tmp_path):
    path = _write(tmp_path / "Z_TRAIN.tsv", "1\t1\t2\n2\tNaN\tNaN\n")
    with pytest.raises(DataFormatError, match="no observed value") as info:
        read_ucr_file(path)
    assert info.value.line == 2


@pytest.mark.parametrize("label", ["1.5", "-0.25"])
def test_non_integer_label(tmp_path, label):
    path = _write(tmp_path / "F_TRAIN.tsv", f"1\t1\t2\n{label}\t3\t4\n")
    with pytest.raises(DataFormatError, match=rf"F_TRAIN.tsv, line 2: class label {label} in column 1 is not an integer") as info:
        read_ucr_file(path)
    assert info.value.line == 2


def test_integral_float_labels_are_integers(tmp_path):
    data = read_ucr_file(_write(tmp_path / "I_TRAIN.tsv", "1.0\t1\t2\n-1.0\t3\t4\n"))
    np.testing.assert_array_equal(data.y, [1, -1])
    assert data.y.dtype == np.int64


def test_ts_file_with_a_bad_header_is_refused_like_uea(tmp_path):
    path = _write(
        tmp_path / "U_TRAIN.ts",
        "@problemName U\n@univariate yes\n@equalLength true\n@classLabel true 1 2\n@data\n1,2:1\n",
    )
    with pytest.raises(DataFormatError, match=r"U_TRAIN.ts, line 2: @univariate must be true or false, got 'yes'"):
        read_ucr_file(path)
