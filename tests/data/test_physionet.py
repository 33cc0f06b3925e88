"""PhysioNet 2019 sepsis reader: the real training set A archive and hand-made bad files."""

from __future__ import annotations

import re
import tarfile

import numpy as np
import pandas as pd
import pytest

from tests.data.archives import make_tar
from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.physionet import (
    PAPER_FEATURES,
    PHYSIONET_COLUMNS,
    load_physionet,
    read_psv,
)
from tsmtl.data.preprocessing.recipes import physionet_last_hours

HEADER = "|".join(PHYSIONET_COLUMNS)


def psv_text(rows: list[dict[str, float]], header: str = HEADER) -> str:
    """A .psv file: the header then one line per row dict (absent columns are NaN).

    Rows that do not give them get ``ICULOS`` 1, 2, 3... and ``SepsisLabel`` 0, which every
    real file has on every row (the reader refuses anything else).
    """
    lines = [header]
    for hour, given in enumerate(rows, start=1):
        row = {"ICULOS": hour, "SepsisLabel": 0, **given}
        lines.append("|".join("NaN" if c not in row else f"{row[c]:g}" for c in PHYSIONET_COLUMNS))
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- real archive
@pytest.fixture(scope="module")
def setA(real_data_dir) -> pd.DataFrame:
    return load_physionet(real_data_dir / "physionet2019_sepsis" / "training_setA.tar.gz")


@pytest.mark.real_data
def test_training_set_a_counts_match_sources(setA):
    # Counts from shared/data/SOURCES.md, section 3.
    assert len(setA) == 790_215
    assert setA["patient_id"].nunique() == 20_336
    septic = setA.groupby("patient_id")["SepsisLabel"].max()
    assert int((septic == 1).sum()) == 1_790
    stay = setA.groupby("patient_id").size()
    assert (stay.min(), stay.max(), stay.median()) == (8, 336, 39)


@pytest.mark.real_data
def test_training_set_a_layout(setA):
    assert list(setA.columns) == ["patient_id", *PHYSIONET_COLUMNS]
    assert all(setA[c].dtype == np.float64 for c in PHYSIONET_COLUMNS)
    ids = setA["patient_id"].to_numpy()
    assert ids[0] == "p000001" and ids[-1] == "p020643"
    # patients sorted by id, each patient's rows contiguous
    firsts = pd.unique(setA["patient_id"])
    assert list(firsts) == sorted(firsts)
    # first patient, rows in file order (values read from the file by hand)
    p1 = setA[setA["patient_id"] == "p000001"]
    assert p1["ICULOS"].tolist()[:4] == [1.0, 2.0, 3.0, 4.0]
    assert np.isnan(p1["HR"].iloc[0]) and p1["HR"].iloc[1] == 97.0 and p1["MAP"].iloc[1] == 75.33
    assert p1["Age"].iloc[0] == 83.14 and p1["HospAdmTime"].iloc[0] == -0.03


@pytest.mark.real_data
def test_trep_preprocessing_on_real_data(setA):
    data = physionet_last_hours(setA, hours=45, features=PAPER_FEATURES)
    assert data.X.shape == (20_336, 10, 45)
    assert data.lengths.min() == 8 and data.lengths.max() == 45
    assert int(data.y.sum()) == 1_790  # every septic patient's positive hours are in its last 45
    # Age is recorded on every row, so it is never NaN within a stay
    age = data.X[:, PAPER_FEATURES.index("Age"), :]
    inside = np.arange(45)[None, :] < data.lengths[:, None]
    assert np.isfinite(age[inside]).all() and np.isnan(age[~inside]).all()


@pytest.mark.real_data
def test_max_patients_reads_first_ids(real_data_dir):
    frame = load_physionet(real_data_dir / "physionet2019_sepsis" / "training_setA.tar.gz", max_patients=3)
    assert list(pd.unique(frame["patient_id"])) == ["p000001", "p000002", "p000003"]


@pytest.mark.real_data
def test_read_psv_from_archive_member(real_data_dir):
    with tarfile.open(real_data_dir / "physionet2019_sepsis" / "training_setA.tar.gz") as archive:
        member = archive.extractfile("training_setA/p000001.psv")
        frame = read_psv(member, name="p000001.psv")
    assert frame.shape[1] == 41 and frame["ICULOS"].iloc[-1] == len(frame)


# ----------------------------------------------------------------------------- small files
def test_read_psv_values_and_nan(tmp_path):
    path = tmp_path / "p000007.psv"
    path.write_text(psv_text([{"HR": 80, "Age": 60, "ICULOS": 1}, {"Temp": 37.5, "ICULOS": 2, "SepsisLabel": 1}]))
    frame = read_psv(path)
    assert list(frame.columns) == list(PHYSIONET_COLUMNS) and frame.shape == (2, 41)
    assert frame.loc[0, "HR"] == 80 and np.isnan(frame.loc[1, "HR"]) and frame.loc[1, "Temp"] == 37.5
    assert frame.loc[0, "SepsisLabel"] == 0.0 and frame.loc[1, "SepsisLabel"] == 1.0


def test_wrong_header_names_the_columns(tmp_path):
    path = tmp_path / "p1.psv"
    path.write_text(psv_text([{"HR": 1}], header=HEADER.replace("O2Sat", "SpO2")))
    with pytest.raises(DataFormatError, match=r"missing columns \['O2Sat'\].*unexpected columns \['SpO2'\]") as info:
        read_psv(path)
    assert info.value.line == 1 and "p1.psv" in str(info.value)


def test_columns_out_of_order(tmp_path):
    swapped = ["O2Sat", "HR", *PHYSIONET_COLUMNS[2:]]
    path = tmp_path / "p1.psv"
    path.write_text("|".join(swapped) + "\n" + "|".join(["1"] * 41) + "\n")
    with pytest.raises(DataFormatError, match="out of order: column 1 is 'O2Sat'"):
        read_psv(path)


def test_non_numeric_value_names_line_and_column(tmp_path):
    text = psv_text([{"HR": 1}, {"HR": 2}, {"HR": 3}]).splitlines()
    text[3] = text[3].replace("NaN", "abc", 1)  # line 4 = third data row; first NaN is O2Sat
    path = tmp_path / "p2.psv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError, match="non-numeric value 'abc' in column 'O2Sat'") as info:
        read_psv(path)
    assert info.value.line == 4


def test_short_row_is_an_error_not_silent_nan(tmp_path):
    text = psv_text([{"HR": 1}, {"HR": 2}]).splitlines()
    text[2] = text[2].rsplit("|", 1)[0]  # 40 fields
    path = tmp_path / "p3.psv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError, match="expected 41 fields, found 40") as info:
        read_psv(path)
    assert info.value.line == 3


@pytest.mark.parametrize("content, message", [("", "empty file"), ("\n\n", "empty file"), (HEADER + "\n", "no data rows")])
def test_empty_files(tmp_path, content, message):
    path = tmp_path / "p4.psv"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message):
        read_psv(path)


def test_crlf_and_bom_are_accepted(tmp_path):
    path = tmp_path / "p5.psv"
    path.write_bytes(b"\xef\xbb\xbf" + psv_text([{"HR": 5}, {"HR": 6}]).replace("\n", "\r\n").encode())
    assert read_psv(path)["HR"].tolist() == [5.0, 6.0]


def test_load_from_folder_and_archive_agree(tmp_path):
    members = {
        "p000010.psv": psv_text([{"HR": 10, "ICULOS": 1}]),
        "p000002.psv": psv_text([{"HR": 2, "ICULOS": 1}, {"HR": 3, "ICULOS": 2}]),
    }
    folder = tmp_path / "set"
    folder.mkdir()
    for name, text in members.items():
        (folder / name).write_text(text)
    (folder / "README.txt").write_text("not a patient")
    archive = tmp_path / "set.tar.gz"
    make_tar(archive, {f"set/{k}": v for k, v in members.items()})

    from_folder = load_physionet(folder)
    from_archive = load_physionet(archive)
    pd.testing.assert_frame_equal(from_folder, from_archive)
    assert from_folder["patient_id"].tolist() == ["p000002", "p000002", "p000010"]
    assert from_folder["HR"].tolist() == [2.0, 3.0, 10.0]
    assert load_physionet(archive, max_patients=1)["patient_id"].tolist() == ["p000002", "p000002"]


def test_bad_member_in_archive_is_named(tmp_path):
    bad = psv_text([{"HR": 1}]).replace("NaN", "x", 1)
    archive = tmp_path / "set.tar.gz"
    make_tar(archive, {"set/p000001.psv": psv_text([{"HR": 1}]), "set/p000002.psv": bad})
    with pytest.raises(DataFormatError, match=r"set\.tar\.gz::set/p000002\.psv, line 2: non-numeric value 'x'"):
        load_physionet(archive)


def test_missing_source_and_empty_folder(tmp_path):
    with pytest.raises(DataNotFoundError, match="TSMTL_DATA_DIR"):
        load_physionet(tmp_path / "nope.tar.gz")
    with pytest.raises(DataFormatError, match="no .psv files"):
        load_physionet(tmp_path)


def test_not_an_archive(tmp_path):
    path = tmp_path / "fake.tar.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(DataFormatError, match="not a readable tar archive"):
        load_physionet(path)


# ----------------------------------------------------------------------------- values against their definitions (#11)
@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ([{}, {"SepsisLabel": 2}], 3, "column 'SepsisLabel': 2 is not 0 or 1 (the hourly label is never missing)"),
        ([{"SepsisLabel": 0.5}], 2, "column 'SepsisLabel': 0.5 is not 0 or 1"),
        (
            [{}, {}, {"SepsisLabel": float("nan")}],
            4,
            "column 'SepsisLabel': nan is not 0 or 1 (the hourly label is never missing)",
        ),
        ([{"Gender": 2}], 2, "column 'Gender': 2 is not 0 or 1 (or NaN for missing)"),
        ([{}, {"Unit1": 0.5}], 3, "column 'Unit1': 0.5 is not 0 or 1 (or NaN for missing)"),
        ([{"Age": -3}], 2, "column 'Age': -3 is outside [0, 100] years"),
        ([{"Age": 130}], 2, "column 'Age': 130 is outside [0, 100] years"),
        ([{"ICULOS": 0}], 2, "column 'ICULOS': 0 is not a whole number of hours >= 1"),
        ([{"ICULOS": 1.5}], 2, "column 'ICULOS': 1.5 is not a whole number of hours >= 1"),
        ([{}, {"ICULOS": float("nan")}], 3, "column 'ICULOS': nan is not a whole number of hours >= 1"),
        ([{}, {}, {"ICULOS": 5}], 4, "column 'ICULOS': 5 follows 2; each row is the next hour (ICULOS + 1)"),
        ([{}, {"ICULOS": 1}], 3, "column 'ICULOS': 1 follows 1; each row is the next hour"),
        ([{}, {"HR": float("inf")}], 3, "column 'HR': inf is infinite (NaN marks a missing value)"),
    ],
)
def test_value_outside_its_definition(tmp_path, rows, line, message):
    path = tmp_path / "p000009.psv"
    path.write_text(psv_text(rows))
    with pytest.raises(DataFormatError, match=re.escape(message)) as info:
        read_psv(path)
    assert str(info.value).startswith(f"{path}, line {line}: ")


def test_value_outside_its_definition_in_an_archive_names_the_member(tmp_path):
    """Each file's ICULOS may start above 1 (real stays do); a bad value names its member and line."""
    archive = tmp_path / "set.tar.gz"
    later_start = psv_text([{"ICULOS": 4}, {"ICULOS": 5}])
    bad = psv_text([{}, {}, {"SepsisLabel": 3}])
    make_tar(archive, {"set/p000001.psv": psv_text([{}, {}]), "set/p000002.psv": later_start, "set/p000003.psv": bad})
    with pytest.raises(DataFormatError, match=r"set\.tar\.gz::set/p000003\.psv, line 4: column 'SepsisLabel': 3 is not 0 or 1"):
        load_physionet(archive)
    assert load_physionet(archive, max_patients=2)["ICULOS"].tolist() == [1.0, 2.0, 4.0, 5.0]


def test_trep_preprocessing_hand_computed():
    # patient a: 3 hours; patient b: 5 hours. HR gaps must be forward-filled within a patient only.
    rows = []
    for hour, hr in enumerate([np.nan, 70.0, np.nan], start=1):
        rows.append({"patient_id": "a", "HR": hr, "ICULOS": hour, "SepsisLabel": 0.0})
    for hour, hr in enumerate([np.nan, 90.0, np.nan, np.nan, 95.0], start=1):
        rows.append({"patient_id": "b", "HR": hr, "ICULOS": hour, "SepsisLabel": float(hour >= 4)})
    frame = pd.DataFrame(rows).reindex(columns=["patient_id", *PHYSIONET_COLUMNS])
    frame["Age"] = 50.0
    data = physionet_last_hours(frame, hours=4, features=("HR", "ICULOS"))
    assert data.X.shape == (2, 2, 4)
    np.testing.assert_array_equal(data.lengths, [3, 4])
    np.testing.assert_array_equal(data.X[0, 0], [np.nan, 70, 70, np.nan])  # no fill from b, padding after
    np.testing.assert_array_equal(data.X[1, 0], [90, 90, 90, 95])  # last 4 of 5 hours, filled
    np.testing.assert_array_equal(data.X[1, 1], [2, 3, 4, 5])
    np.testing.assert_array_equal(data.y, [0, 1])
    np.testing.assert_array_equal(data.meta["sepsis_label"][1], [0, 0, 1, 1])
    assert list(data.meta["patient_id"]) == ["a", "b"]
