"""UEA .ts reader: the three real sets against SOURCES.md, unequal lengths, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.uea import available_uea_datasets, load_uea_dataset, read_uea_file

# SOURCES.md section 4: name -> (train, test, dims, length, classes)
EXPECTED = {
    "ArticularyWordRecognition": (275, 300, 9, 144, 25),
    "NATOPS": (180, 180, 24, 51, 6),
    "AtrialFibrillation": (15, 15, 2, 640, 3),
}


@pytest.mark.real_data
def test_available_names(real_data_dir):
    assert available_uea_datasets(real_data_dir / "uea") == sorted(EXPECTED)


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_sets_match_sources(real_data_dir, name):
    n_train, n_test, dims, length, n_classes = EXPECTED[name]
    splits = load_uea_dataset(name, root=real_data_dir / "uea")
    assert set(splits) == {"train", "test"}
    for data, n_cases in ((splits["train"], n_train), (splits["test"], n_test)):
        assert data.name == name
        assert data.X.shape == (n_cases, dims, length)
        assert data.equal_length
        assert np.isfinite(data.X).all()
        assert len(data.classes) == n_classes
    np.testing.assert_array_equal(splits["train"].classes, splits["test"].classes)


@pytest.mark.real_data
def test_atrial_fibrillation_labels(real_data_dir):
    train = load_uea_dataset("AtrialFibrillation", root=real_data_dir / "uea")["train"]
    assert set(train.y.tolist()) == {"n", "s", "t"}
    # five cases per class in the 15-case train split
    assert sorted(np.unique(train.y, return_counts=True)[1].tolist()) == [5, 5, 5]


HEADER = "@problemName T\n@timeStamps false\n@univariate false\n@dimensions 2\n@equalLength {eq}\n@classLabel true a b\n@data\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_unequal_lengths_are_nan_padded(tmp_path):
    path = _write(
        tmp_path / "T_TRAIN.ts",
        HEADER.format(eq="false") + "1,2,3:4,5,6:a\n7,8:9,10:b\n",
    )
    data = read_uea_file(path)
    assert data.name == "T"
    assert data.X.shape == (2, 2, 3)
    np.testing.assert_array_equal(data.lengths, [3, 2])
    np.testing.assert_array_equal(data.X[1], [[7, 8, np.nan], [9, 10, np.nan]])
    np.testing.assert_array_equal(data.y, ["a", "b"])


def test_missing_values_inside_stay_nan(tmp_path):
    path = _write(tmp_path / "T_TRAIN.ts", HEADER.format(eq="true") + "1,?,3:4,NaN,6:a\n7,8,9:1,2,3:b\n")
    data = read_uea_file(path)
    np.testing.assert_array_equal(data.lengths, [3, 3])
    assert np.isnan(data.X[0, 0, 1]) and np.isnan(data.X[0, 1, 1])


def test_flat_layout_and_train_only(tmp_path):
    _write(tmp_path / "T_TRAIN.ts", HEADER.format(eq="true") + "1,2:3,4:a\n")
    splits = load_uea_dataset("T", root=tmp_path)
    assert set(splits) == {"train"}


def test_missing_dataset(tmp_path):
    with pytest.raises(DataNotFoundError, match="Nope_TRAIN.ts"):
        load_uea_dataset("Nope", root=tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_uea_file(tmp_path / "X_TRAIN.ts")


def test_empty_file(tmp_path):
    with pytest.raises(DataFormatError, match="empty file"):
        read_uea_file(_write(tmp_path / "E_TRAIN.ts", ""))


def test_header_without_cases(tmp_path):
    with pytest.raises(DataFormatError, match="no cases"):
        read_uea_file(_write(tmp_path / "E_TRAIN.ts", HEADER.format(eq="true")))


def test_non_numeric_value_names_its_line(tmp_path):
    # header is 7 lines, so the second case is on line 9
    path = _write(tmp_path / "B_TRAIN.ts", HEADER.format(eq="true") + "1,2:3,4:a\n1,x:3,4:b\n")
    with pytest.raises(DataFormatError, match=r"B_TRAIN.ts, line 9: non-numeric value 'x'"):
        read_uea_file(path)


def test_inconsistent_channels_names_its_line(tmp_path):
    path = _write(tmp_path / "C_TRAIN.ts", HEADER.format(eq="true") + "1,2:3,4:a\n1,2:b\n")
    with pytest.raises(DataFormatError) as info:
        read_uea_file(path)
    assert info.value.line == 9


def test_label_outside_declared_classes(tmp_path):
    path = _write(tmp_path / "D_TRAIN.ts", HEADER.format(eq="true") + "1,2:3,4:a\n1,2:3,4:zzz\n")
    with pytest.raises(DataFormatError, match="zzz"):
        read_uea_file(path)


def test_the_catalog_archive_lists_only_folders_holding_a_dataset(tmp_path):
    """A user drops a set into the UEA folder; empty or unrelated folders are not datasets."""
    from tsmtl.kedro_datasets import UEAArchiveDataset

    (tmp_path / "Mine").mkdir()
    (tmp_path / "notes").mkdir()
    _write(tmp_path / "Mine" / "Mine_TRAIN.ts", HEADER.format(eq="true") + "1,2:3,4:a\n")
    archive = UEAArchiveDataset(path=str(tmp_path)).load()
    assert list(archive) == ["Mine"] and "notes" not in archive
    assert archive["Mine"]["train"].n_cases == 1
