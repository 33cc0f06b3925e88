"""Datasets shipped inside aeon's wheel: read locally, never downloaded."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from tsmtl.data.aeon_datasets import (
    AEON_DATA_DIR,
    EMBEDDED_CLASSIFICATION,
    load_embedded_anomaly,
    load_embedded_classification,
)
from tsmtl.data.errors import DataFormatError, DataNotFoundError


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", EMBEDDED_CLASSIFICATION)
def test_every_listed_name_ships_with_aeon(name):
    folder = name.removesuffix("_eq")
    for split in ("TRAIN", "TEST"):
        assert (AEON_DATA_DIR / folder / f"{name}_{split}.ts").is_file()


def test_gunpoint(no_network):
    splits = load_embedded_classification("GunPoint")
    assert splits["train"].X.shape == (50, 1, 150)
    assert splits["test"].X.shape == (150, 1, 150)
    assert splits["train"].name == "GunPoint"
    for data in splits.values():
        assert data.equal_length
        np.testing.assert_array_equal(data.classes, [1, 2])


def test_basic_motions_is_multivariate_with_string_labels(no_network):
    splits = load_embedded_classification("BasicMotions")
    assert splits["train"].X.shape == (40, 6, 100)
    assert splits["test"].n_cases == 40
    # aeon's .ts loader lower-cases labels
    assert set(splits["train"].y.tolist()) == {"standing", "running", "walking", "badminton"}


def test_japanese_vowels_unequal_lengths_are_padded(no_network):
    train = load_embedded_classification("JapaneseVowels")["train"]
    assert train.n_cases == 270 and train.n_channels == 12
    assert not train.equal_length
    assert train.n_timepoints == train.lengths.max()
    short = int(np.argmin(train.lengths))
    assert np.isnan(train.X[short, :, train.lengths[short] :]).all()
    assert np.isfinite(train.X[short, :, : train.lengths[short]]).all()
    assert len(train.classes) == 9


def test_unknown_name_is_not_downloaded(no_network):
    with pytest.raises(DataNotFoundError, match="not a classification dataset shipped with aeon"):
        load_embedded_classification("ECG200")


def test_kdd_tsad_135(no_network):
    frame = load_embedded_anomaly("KDD-TSAD_135")
    assert list(frame.columns) == ["timestamp", "value", "is_anomaly"]
    assert [str(t) for t in frame.dtypes] == ["int64", "float64", "int64"]
    assert len(frame) == 7501  # aeon's documented series length
    np.testing.assert_array_equal(frame["timestamp"], np.arange(7501))
    labels = frame["is_anomaly"].to_numpy()
    assert set(np.unique(labels).tolist()) == {0, 1}
    # one annotated region (a single contiguous run of 1s), after the anomaly-free train prefix
    assert np.sum(np.diff(np.r_[0, labels, 0]) == 1) == 1
    assert frame.attrs["train_length"] == 1200
    assert labels[:1200].sum() == 0
    assert np.isfinite(frame["value"]).all()


def test_unknown_anomaly_name():
    with pytest.raises(DataNotFoundError):
        load_embedded_anomaly("Daphnet_S06R02E0")


def test_anomaly_label_outside_0_1_names_file_and_line(tmp_path, monkeypatch):
    """A damaged bundled CSV (here a copy under tmp_path) is refused with its file and line."""
    import tsmtl.data.aeon_datasets as aeon_datasets

    folder, stem = aeon_datasets.EMBEDDED_ANOMALY["KDD-TSAD_135"]
    (tmp_path / folder).mkdir()
    path = tmp_path / folder / f"{stem}_TEST.csv"
    path.write_text("timestamp,value,is_anomaly\n0,1.5,0\n1,2.5,2\n")
    monkeypatch.setattr(aeon_datasets, "AEON_DATA_DIR", tmp_path)
    with pytest.raises(DataFormatError, match=rf"{stem}_TEST.csv, line 3: is_anomaly 2 is not 0 or 1"):
        load_embedded_anomaly("KDD-TSAD_135")
