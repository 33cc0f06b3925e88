"""UEA .ts reader: the three real sets against SOURCES.md, unequal lengths, bad input."""

from __future__ import annotations

import re
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
    with pytest.raises(DataFormatError, match=r"B_TRAIN.ts, line 9: case 2: non-numeric value 'x'"):
        read_uea_file(path)


def test_inconsistent_channels_names_its_line(tmp_path):
    path = _write(tmp_path / "C_TRAIN.ts", HEADER.format(eq="true") + "1,2:3,4:a\n1,2:b\n")
    with pytest.raises(DataFormatError) as info:
        read_uea_file(path)
    assert info.value.line == 9


def test_label_outside_declared_classes(tmp_path):
    path = _write(tmp_path / "D_TRAIN.ts", HEADER.format(eq="true") + "1,2:3,4:a\n1,2:3,4:zzz\n")
    with pytest.raises(
        DataFormatError, match=r"D_TRAIN.ts, line 9: case 2 has label 'zzz', not in the header's @classLabel"
    ) as info:
        read_uea_file(path)
    assert "(line 6;" in str(info.value)  # where @classLabel was declared


# --------------------------------------------------------------------------- header fields (#11 "Bad input, one more pass")
VALID_LINES = [
    "@problemName T",
    "@timeStamps false",
    "@missing false",
    "@univariate false",
    "@dimensions 2",
    "@equalLength true",
    "@seriesLength 2",
    "@classLabel true a b",
]
CASES = "1,2:3,4:a\n5,6:7,8:b\n"


def _header(replace: dict[int, str] | None = None, extra: list[str] | None = None) -> str:
    """VALID_LINES with line ``i`` (0-based) replaced, then ``extra`` lines, then @data."""
    lines = [(replace or {}).get(i, line) for i, line in enumerate(VALID_LINES)]
    return "\n".join([*lines, *(extra or []), "@data"]) + "\n"


def test_valid_header_reads_and_keeps_its_tags(tmp_path):
    data = read_uea_file(_write(tmp_path / "V_TRAIN.ts", _header() + CASES))
    assert data.X.shape == (2, 2, 2)
    np.testing.assert_array_equal(data.y, ["a", "b"])


def test_header_tags_are_case_insensitive_and_take_aeons_spellings(tmp_path):
    """``TRUE``/``False``, ``@TIMESTAMPS``, aeon's writer's ``@dimension``, ``#`` and ``%`` comments."""
    text = "% arff-style comment\n# comment\n@PROBLEMNAME T\n@TIMESTAMPS False\n@missing FALSE\n@univariate False\n"
    text += "@dimension 2\n@equalLength TRUE\n@seriesLength 2\n@classLabel TRUE A B\n@data\n" + CASES
    data = read_uea_file(_write(tmp_path / "V_TRAIN.ts", text))
    np.testing.assert_array_equal(data.y, ["a", "b"])


def test_a_file_written_by_aeon_reads_back(tmp_path):
    from aeon.datasets import save_to_ts_file

    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3, 5))
    y = np.array(["x", "y"] * 3)
    save_to_ts_file(X, y, label_type="classification", path=str(tmp_path), problem_name="W", file_suffix="_TRAIN")
    data = read_uea_file(tmp_path / "W_TRAIN.ts")
    np.testing.assert_allclose(data.X, X)
    np.testing.assert_array_equal(data.y, y)


@pytest.mark.parametrize(
    ("replace", "line", "message"),
    [
        ({1: "@timeStamps no"}, 2, "@timeStamps must be true or false, got 'no'"),
        ({2: "@missing 0"}, 3, "@missing must be true or false, got '0'"),
        ({3: "@univariate yes"}, 4, "@univariate must be true or false, got 'yes'"),
        ({5: "@equalLength maybe"}, 6, "@equalLength must be true or false, got 'maybe'"),
        ({5: "@equalLength"}, 6, "@equalLength needs one value, true or false, got ''"),
        ({5: "@equalLength true false"}, 6, "@equalLength needs one value, true or false, got 'true false'"),
        ({4: "@dimensions 0"}, 5, "@dimensions must be a positive integer, got '0'"),
        ({4: "@dimensions -2"}, 5, "@dimensions must be a positive integer, got '-2'"),
        ({4: "@dimensions 2.0"}, 5, "@dimensions must be a positive integer, got '2.0'"),
        ({4: "@dimensions two"}, 5, "@dimensions must be a positive integer, got 'two'"),
        ({6: "@seriesLength 0"}, 7, "@seriesLength must be a positive integer, got '0'"),
        ({6: "@seriesLength"}, 7, "@seriesLength needs one value, got ''"),
        ({0: "@problemName"}, 1, "@problemName needs one name without blanks, got ''"),
        ({0: "@problemName Two Words"}, 1, "@problemName needs one name without blanks, got 'two words'"),
        ({7: "@classLabel true"}, 8, "@classLabel true needs the list of class labels after it"),
        ({7: "@classLabel yes a b"}, 8, "@classLabel must be true (followed by the labels) or false, got 'yes'"),
        ({7: "@classLabel false a b"}, 8, "@classLabel false takes no labels, got 'a b'"),
        ({7: "@classLabel true a b A"}, 8, "@classLabel lists ['a'] more than once"),
        ({6: "@seriesLenght 2"}, 7, "unknown tag '@seriesLenght'"),
        ({6: "seriesLength 2"}, 7, "header line 'serieslength 2' is neither an @-tag nor a #/% comment"),
    ],
)
def test_header_field_outside_its_spec(tmp_path, replace, line, message):
    path = _write(tmp_path / "H_TRAIN.ts", _header(replace) + CASES)
    with pytest.raises(DataFormatError) as info:
        read_uea_file(path)
    assert str(info.value).startswith(f"{path}, line {line}: ")
    assert message.lower() in str(info.value).lower()
    assert info.value.line == line


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (_header(extra=["@equalLength false"]) + CASES, 9, "@equalLength given twice with different values (also line 6)"),
        (_header({3: "@univariate true"}) + CASES, 5, "'@univariate true' (line 4) contradicts '@dimensions 2' (line 5)"),
        (_header(extra=["@targetLabel true"]) + CASES, 9, "'@classLabel true' (line 8) contradicts '@targetLabel true' (line 9)"),
        (_header().replace("@data", "@data now") + CASES, 9, "@data takes no value, got 'now'"),
        ("\n".join(VALID_LINES) + "\n", None, "no @data line"),
    ],
)
def test_header_tags_that_contradict_or_are_missing(tmp_path, text, line, message):
    path = _write(tmp_path / "H_TRAIN.ts", text)
    with pytest.raises(DataFormatError, match=re.escape(message)) as info:
        read_uea_file(path)
    assert str(path) in str(info.value)
    assert info.value.line == line


# --------------------------------------------------------------------------- declared values against the cases
@pytest.mark.parametrize(
    ("replace", "cases", "line", "message"),
    [
        # aeon itself refuses unequal lengths under @equalLength true; the message says why
        (
            {},
            "1,2:3,4:a\n5,6,7:8,9,10:b\n",
            11,
            "case 2 has 3 values per channel, case 1 has 2, but the header has '@equalLength true' (line 6)",
        ),
        # aeon checks @univariate only from the second case on
        (
            {3: "@univariate true", 4: "@dimensions 1"},
            "1,2:3,4:a\n",
            10,
            "case 1 has 2 channels but the header has '@univariate true' (line 4)",
        ),
        ({4: "@dimensions 3"}, CASES, 10, "case 1 has 2 channels but the header has '@dimensions 3' (line 5)"),
        ({6: "@seriesLength 3"}, CASES, 10, "case 1 has 2 values per channel but the header has '@seriesLength 3' (line 7)"),
        ({}, "1,2:3,4:a\n5,?:7,8:b\n", 11, "case 2 has a missing value (? or NaN) but the header has '@missing false' (line 3)"),
        ({}, "1,2:3,4:a\n5,6:7,8:9,10:b\n", 11, "case 2 has 3 channels (':'-separated fields), case 1 has 2"),
        ({}, "1,2:3,4:a\n5,6:7:b\n", 11, "case 2: its channels have [2, 1] values"),
        ({7: "@classLabel false"}, CASES, 10, "non-numeric value 'a' (@classLabel false: the last field is read as a channel)"),
        (
            {7: "@targetLabel true"},
            "1,2:3,4:0.5\n5,6:7,8:high\n",
            11,
            "case 2: @targetLabel true but the target 'high' is not a number",
        ),
        ({}, "1,2:3,inf:a\n", 10, "case 1 has an infinite value"),
    ],
)
def test_cases_that_contradict_the_header(tmp_path, replace, cases, line, message):
    """The header ends with @data on line 9, so case ``k`` is on line ``9 + k``."""
    path = _write(tmp_path / "C_TRAIN.ts", _header(replace) + cases)
    with pytest.raises(DataFormatError, match=re.escape(message)) as info:
        read_uea_file(path)
    assert str(info.value).startswith(f"{path}, line {line}: ")


def test_the_catalog_archive_lists_only_folders_holding_a_dataset(tmp_path):
    """A user drops a set into the UEA folder; empty or unrelated folders are not datasets."""
    from tsmtl.kedro_datasets import UEAArchiveDataset

    (tmp_path / "Mine").mkdir()
    (tmp_path / "notes").mkdir()
    _write(tmp_path / "Mine" / "Mine_TRAIN.ts", HEADER.format(eq="true") + "1,2:3,4:a\n")
    archive = UEAArchiveDataset(path=str(tmp_path)).load()
    assert list(archive) == ["Mine"] and "notes" not in archive
    assert archive["Mine"]["train"].n_cases == 1
