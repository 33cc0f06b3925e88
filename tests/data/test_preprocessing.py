"""Tests of tsmtl.data.preprocessing (splits, cleaning, recipes, windows, lengths): hand-worked values on tiny
data, plus real PhysioNet files."""

from __future__ import annotations

import io
import re
import tarfile

import numpy as np
import pandas as pd
import pytest

from tsmtl.data.preprocessing.cleaning import (
    adf_difference,
    adf_difference_dataset,
    adf_difference_frame,
    forward_fill,
    forward_fill_frame,
    z_normalise,
)
from tsmtl.data.preprocessing.lengths import pad_to_length, resample_to_length
from tsmtl.data.preprocessing.recipes import physionet_last_hours, random_missing, smote_oversample
from tsmtl.data.preprocessing.splits import (
    holdout_validation_split,
    merge_splits,
    observed_future_split,
    stratified_split,
)
from tsmtl.data.preprocessing.windows import forecasting_windows, sliding_windows
from tsmtl.data.types import TimeSeriesData, true_lengths

nan = np.nan


def make(rows, y=None, lengths=None, name="toy", **meta):
    """TimeSeriesData from a list of univariate rows (NaN-padded) or a 3-D array."""
    X = np.asarray(rows, dtype=np.float64)
    if X.ndim == 2:
        X = X[:, None, :]
    lengths = true_lengths(X) if lengths is None else lengths
    y = None if y is None else np.asarray(y)
    return TimeSeriesData(X=X, y=y, lengths=lengths, name=name, meta=dict(meta))


def labelled(counts, length=8, channels=1, seed=0, name="toy"):
    """Random equal-length data with ``counts[c]`` cases of class ``c``."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(list(counts)), list(counts.values()))
    X = rng.standard_normal((len(y), channels, length))
    return TimeSeriesData(X=X, y=y, lengths=np.full(len(y), length), name=name)


# --------------------------------------------------------------------------- merge_splits
def test_merge_splits_pads_to_widest_and_keeps_lengths():
    a = make([[1, 2, 3], [4, 5, nan]], y=[0, 1], split="train")
    b = make([[6, 7, 8, 9, 10]], y=[1], split="test")
    merged = merge_splits(a, b, name="AB")
    assert merged.X.shape == (3, 1, 5)
    np.testing.assert_array_equal(merged.X[0, 0], [1, 2, 3, nan, nan])
    np.testing.assert_array_equal(merged.X[1, 0], [4, 5, nan, nan, nan])
    np.testing.assert_array_equal(merged.X[2, 0], [6, 7, 8, 9, 10])
    np.testing.assert_array_equal(merged.lengths, [3, 2, 5])
    np.testing.assert_array_equal(merged.y, [0, 1, 1])
    assert merged.name == "AB"
    assert merged.meta["merged_from"] == ["train", "test"]
    assert merged.meta["part_sizes"] == [2, 1]


def test_merge_splits_refuses_mismatched_parts():
    uni = make([[1.0, 2.0]], y=[0])
    multi = TimeSeriesData(X=np.zeros((1, 2, 2)), y=np.array([0]), lengths=[2])
    with pytest.raises(ValueError, match="channel"):
        merge_splits(uni, multi)
    with pytest.raises(ValueError, match="unlabelled"):
        merge_splits(uni, make([[1.0, 2.0]]))
    with pytest.raises(ValueError):
        merge_splits()


# --------------------------------------------------------------------------- stratified_split
def test_stratified_split_60_20_20_counts_per_class_and_coverage():
    data = labelled({"a": 50, "b": 30, "c": 20}, name="ABC")
    parts = stratified_split(data, seed=3)
    assert list(parts) == ["train", "val", "test"]
    assert [parts[p].n_cases for p in parts] == [60, 20, 20]
    # exact stratification: 20 % of each class in test, 20 % (= 25 % of the rest) in val
    expected = {"train": [30, 18, 12], "val": [10, 6, 4], "test": [10, 6, 4]}
    for name, part in parts.items():
        _, counts = np.unique(part.y, return_counts=True)
        assert counts.tolist() == expected[name]
        assert part.meta["split"] == name and part.meta["split_seed"] == 3
        idx = part.meta["source_index"]
        np.testing.assert_array_equal(part.X, data.X[idx])  # each case is the source case
        np.testing.assert_array_equal(part.y, data.y[idx])
        assert np.all(np.diff(idx) > 0)  # original order kept
    every = np.concatenate([p.meta["source_index"] for p in parts.values()])
    assert len(every) == 100 and len(set(every.tolist())) == 100  # disjoint and covering
    assert set(every.tolist()) == set(range(100))


def test_stratified_split_is_reproducible_and_seed_dependent():
    data = labelled({0: 40, 1: 40})
    same = stratified_split(data, seed=1)["test"].meta["source_index"]
    again = stratified_split(data, seed=1)["test"].meta["source_index"]
    other = stratified_split(data, seed=2)["test"].meta["source_index"]
    np.testing.assert_array_equal(same, again)
    assert not np.array_equal(same, other)


def test_stratified_split_fraction_arithmetic_rounds_half_up():
    data = labelled({0: 442, 1: 442}, length=2)  # n = 884: 0.2 * 884 = 176.8 -> 177
    parts = stratified_split(data)
    assert [parts[p].n_cases for p in ("train", "val", "test")] == [530, 177, 177]


def test_stratified_split_two_parts():
    data = labelled({0: 30, 1: 10})
    parts = stratified_split(data, fractions=(0.75, 0.25), names=("train", "val"))
    assert parts["train"].n_cases == 30 and parts["val"].n_cases == 10
    assert np.unique(parts["val"].y, return_counts=True)[1].tolist() == [8, 2]


def test_stratified_split_names_dataset_and_tiny_class():
    data = labelled({"common": 20, "rare": 2}, name="TinyClassSet")
    with pytest.raises(ValueError, match=r"TinyClassSet.*'rare' \(2 cases\).*too few"):
        stratified_split(data)


def test_stratified_split_one_class_raises():
    data = labelled({"only": 10}, name="Mono")
    with pytest.raises(ValueError, match="Mono.*one class"):
        stratified_split(data)


def test_stratified_split_bad_fractions():
    data = labelled({0: 10, 1: 10})
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(data, fractions=(0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="names"):
        stratified_split(data, fractions=(0.5, 0.5), names=("a", "b", "c"))


# --------------------------------------------------------------------------- holdout_validation_split
def test_holdout_validation_split_foreclassnet_sizes_on_ecg5000_counts():
    data = labelled({1: 2919, 2: 1767, 3: 194, 4: 96, 5: 24}, length=2)  # ECG5000 class counts
    parts = holdout_validation_split(data, seed=0)
    assert [parts[p].n_cases for p in ("train", "val", "test")] == [3600, 400, 1000]
    every = np.concatenate([p.meta["source_index"] for p in parts.values()])
    assert sorted(every.tolist()) == list(range(5000))
    # stratified: the rarest class (24 cases) is split 20 % / 10 % of the rest
    rare = {p: int((parts[p].y == 5).sum()) for p in parts}
    assert rare["test"] in (4, 5) and rare["val"] in (1, 2, 3)
    assert sum(rare.values()) == 24


def test_holdout_validation_split_unstratified_accepts_unlabelled():
    data = make(np.arange(20.0).reshape(10, 2))
    parts = holdout_validation_split(data, stratify=False)
    assert [parts[p].n_cases for p in ("train", "val", "test")] == [7, 1, 2]


# --------------------------------------------------------------------------- z_normalise
def test_z_normalise_hand_values_padding_gaps_and_constant():
    data = make([[1, 2, 3, nan], [1, nan, 3, nan], [5, 5, 5, 5], [0.1, 0.1, 0.1, nan]])
    out = z_normalise(data)
    np.testing.assert_allclose(out.X[0, 0, :3], [-1.2247449, 0.0, 1.2247449], atol=1e-6)
    assert np.isnan(out.X[0, 0, 3])  # padding stays NaN
    np.testing.assert_allclose(out.X[1, 0, [0, 2]], [-1.0, 1.0])  # mean 2, std 1 over observed
    assert np.isnan(out.X[1, 0, 1])  # the gap stays NaN
    np.testing.assert_array_equal(out.X[2, 0], [0, 0, 0, 0])  # constant -> zeros
    np.testing.assert_array_equal(out.X[3, 0, :3], [0, 0, 0])
    assert np.isfinite(out.X[2:, 0, :3]).all()
    np.testing.assert_array_equal(data.X[0, 0, :3], [1, 2, 3])  # input untouched


def test_z_normalise_dataset_level_and_given_statistics():
    train = make([[0, 2], [4, 6]])
    out = z_normalise(train, per_case=False)
    std = np.sqrt(5.0)  # values 0, 2, 4, 6: mean 3, population variance 5
    np.testing.assert_allclose(out.X[:, 0], [[-3 / std, -1 / std], [1 / std, 3 / std]])
    mean, sd = out.meta["z_normalise"]
    np.testing.assert_allclose([mean[0], sd[0]], [3.0, std])
    test = z_normalise(make([[3, 3 + std]]), per_case=False, statistics=(mean, sd))
    np.testing.assert_allclose(test.X[0, 0], [0.0, 1.0])


# --------------------------------------------------------------------------- forward_fill
def test_forward_fill_respects_length_and_leading():
    data = make([[nan, 1, nan, 3, nan]], lengths=[4])
    np.testing.assert_array_equal(forward_fill(data).X[0, 0], [nan, 1, 1, 3, nan])
    np.testing.assert_array_equal(forward_fill(data, fill_leading=0.0).X[0, 0], [0, 1, 1, 3, nan])


def test_forward_fill_multichannel_never_fills_padding():
    X = np.array([[[1, nan, nan, nan], [nan, nan, 2, nan]], [[nan, 4, nan, nan], [5, nan, nan, nan]]])
    data = TimeSeriesData(X=X, y=None, lengths=[3, 2])
    out = forward_fill(data).X
    np.testing.assert_array_equal(out[0], [[1, 1, 1, nan], [nan, nan, 2, nan]])
    np.testing.assert_array_equal(out[1], [[nan, 4, nan, nan], [5, 5, nan, nan]])


def test_forward_fill_array_along_axis():
    a = np.array([[1, nan], [nan, 2], [nan, nan]])
    np.testing.assert_array_equal(forward_fill(a, axis=0), [[1, nan], [1, 2], [1, 2]])
    np.testing.assert_array_equal(forward_fill(a, axis=1), [[1, 1], [nan, 2], [nan, nan]])
    with pytest.raises(TypeError, match="forward_fill_frame"):
        forward_fill(pd.DataFrame(a))


def test_forward_fill_frame_never_crosses_patients():
    frame = pd.DataFrame({"patient_id": ["p1"] * 3 + ["p2"] * 3, "HR": [nan, 1, nan, nan, nan, 5]})
    out = forward_fill_frame(frame)
    np.testing.assert_array_equal(out["HR"], [nan, 1, 1, nan, nan, 5])
    np.testing.assert_array_equal(forward_fill_frame(frame, fill_leading=-1)["HR"], [-1, 1, 1, -1, -1, 5])
    assert frame["HR"].isna().sum() == 4  # input untouched
    with pytest.raises(ValueError, match="group by"):
        forward_fill_frame(frame, by="ID")
    duplicated = frame.set_axis([0, 1, 2, 0, 1, 2])  # e.g. per-file frames concatenated as they are
    np.testing.assert_array_equal(forward_fill_frame(duplicated)["HR"], [nan, 1, 1, nan, nan, 5])


# --------------------------------------------------------------------------- physionet_last_hours
def _toy_physionet_frame():
    return pd.DataFrame(
        {
            "patient_id": ["p2"] * 3 + ["p1"] * 5,
            "HR": [nan, 70, nan, 60, nan, 62, nan, 64],
            "Age": [30, nan, nan, 50, 50, 50, 50, 50],
            "SepsisLabel": [0, 0, 0, 0, 0, 0, 1, 1],
        }
    )


def test_physionet_last_hours_start_aligned():
    data = physionet_last_hours(_toy_physionet_frame(), hours=4, features=["HR", "Age"])
    assert data.X.shape == (2, 2, 4)
    assert data.meta["patient_id"].tolist() == ["p1", "p2"]  # sorted ids
    np.testing.assert_array_equal(data.X[0, 0], [60, 62, 62, 64])  # p1: ffill then last 4 of 5
    np.testing.assert_array_equal(data.X[0, 1], [50, 50, 50, 50])
    np.testing.assert_array_equal(data.X[1, 0], [nan, 70, 70, nan])  # p2: 3 rows, NaN-padded after
    np.testing.assert_array_equal(data.X[1, 1], [30, 30, 30, nan])
    np.testing.assert_array_equal(data.lengths, [4, 3])
    np.testing.assert_array_equal(data.y, [1, 0])
    np.testing.assert_array_equal(data.meta["sepsis_label"], [[0, 0, 1, 1], [0, 0, 0, nan]])
    np.testing.assert_array_equal(data.meta["n_hours_kept"], [4, 3])


def test_physionet_last_hours_ignores_the_frame_index():
    frame = _toy_physionet_frame()
    shuffled_index = frame.set_axis([7, 7, 3, 3, 1, 1, 0, 0])
    a = physionet_last_hours(frame, hours=4, features=["HR", "Age"])
    b = physionet_last_hours(shuffled_index, hours=4, features=["HR", "Age"])
    np.testing.assert_array_equal(a.X, b.X)


def test_physionet_last_hours_end_aligned_like_trep_code():
    data = physionet_last_hours(_toy_physionet_frame(), hours=4, features=["HR", "Age"], align="end")
    np.testing.assert_array_equal(data.X[1, 0], [nan, nan, 70, 70])
    np.testing.assert_array_equal(data.X[1, 1], [nan, 30, 30, 30])
    np.testing.assert_array_equal(data.lengths, [4, 4])
    np.testing.assert_array_equal(data.meta["n_hours_kept"], [4, 3])
    zero_padded = forward_fill(data, fill_leading=0.0)  # T-Rep's zero front padding
    np.testing.assert_array_equal(zero_padded.X[1, 0], [0, 0, 70, 70])


def test_physionet_last_hours_missing_column():
    with pytest.raises(ValueError, match="Lactate"):
        physionet_last_hours(_toy_physionet_frame(), features=["HR", "Lactate"])


def _read_first_psv_members(archive, n):
    frames = []
    with tarfile.open(archive, mode="r|gz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".psv"):
                frame = pd.read_csv(io.BytesIO(tar.extractfile(member).read()), sep="|")
                frame.insert(0, "patient_id", member.name.rsplit("/", 1)[-1][:-4])
                frames.append(frame)
                if len(frames) == n:
                    break
    return pd.concat(frames, ignore_index=True)


@pytest.mark.real_data
def test_physionet_last_hours_on_real_patients(real_data_dir):
    frame = _read_first_psv_members(real_data_dir / "physionet2019_sepsis" / "training_setA.tar.gz", 60)
    assert frame.shape[1] == 42  # patient_id + the 41 PhysioNet columns
    data = physionet_last_hours(frame)  # default: the paper's ten features
    n = frame["patient_id"].nunique()
    assert data.X.shape == (n, 10, 45)
    assert data.meta["features"][-1] == "ICULOS"
    stays = frame.groupby("patient_id").size()
    np.testing.assert_array_equal(data.lengths, np.minimum(stays.sort_index().to_numpy(), 45))
    septic = frame.groupby("patient_id")["SepsisLabel"].max().sort_index().to_numpy()
    np.testing.assert_array_equal(data.y, septic)
    # hand check of one patient: last kept hour = the forward-filled last row of its file
    pid = stays.idxmax()
    i = data.meta["patient_id"].tolist().index(pid)
    rows = frame[frame["patient_id"] == pid][list(data.meta["features"])].ffill()
    np.testing.assert_array_equal(data.X[i, :, data.lengths[i] - 1], rows.iloc[-1].to_numpy())
    np.testing.assert_array_equal(data.X[i, 9, : data.lengths[i]], rows["ICULOS"].to_numpy()[-data.lengths[i] :])


# --------------------------------------------------------------------------- ADF differencing
def test_adf_difference_random_walk_d1_white_noise_d0():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.standard_normal(300))
    noise = rng.standard_normal(300)
    diffed, d = adf_difference(walk)
    assert d == 1
    np.testing.assert_allclose(diffed, np.diff(walk))
    same, d0 = adf_difference(noise)
    assert d0 == 0
    np.testing.assert_array_equal(same, noise)
    # TS2Vec/T-Rep's Yahoo rule: both ADF tests (maxlag 1 and default) on the first half
    assert adf_difference(walk, maxlag=(1, None), fit_fraction=0.5)[1] == 1


def test_adf_difference_i2_needs_two_and_max_d_caps():
    rng = np.random.default_rng(0)
    i2 = np.cumsum(np.cumsum(rng.standard_normal(300)))
    diffed, d = adf_difference(i2)
    assert d == 2 and len(diffed) == 298
    assert adf_difference(i2, max_d=1)[1] == 1
    assert adf_difference(np.full(50, 3.0))[1] == 0  # constant: no unit root


def test_adf_difference_refuses_nan_and_short_series():
    with pytest.raises(ValueError, match="finite"):
        adf_difference(np.array([1.0, nan, 2.0] * 20))
    with pytest.raises(ValueError, match="short: ADF test failed on 3 values"):
        adf_difference(np.array([1.0, 3.0, 2.0]), name="short")


def test_adf_difference_frame_and_dataset_choose_d_per_series():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.standard_normal(300))
    noise = rng.standard_normal(300)
    frame = pd.DataFrame({"date": pd.date_range("2020", periods=300, freq="h"), "walk": walk, "noise": noise})
    out, orders = adf_difference_frame(frame)
    assert orders == {"walk": 1, "noise": 0}
    assert np.isnan(out["walk"].iloc[0])
    np.testing.assert_allclose(out["walk"].to_numpy()[1:], np.diff(walk))
    np.testing.assert_array_equal(out["noise"], noise)
    assert out["date"].equals(frame["date"])

    X = np.full((2, 1, 300), nan)
    X[0, 0], X[1, 0, :250] = walk, noise[:250]
    data = TimeSeriesData(X=X, y=None, lengths=[300, 250], name="yahoo-like")
    diffed, d = adf_difference_dataset(data)
    np.testing.assert_array_equal(d, [[1], [0]])
    np.testing.assert_array_equal(diffed.lengths, [299, 250])
    np.testing.assert_allclose(diffed.X[0, 0, :299], np.diff(walk))
    assert diffed.n_timepoints == 299


# --------------------------------------------------------------------------- SMOTE
def test_smote_balances_and_keeps_originals_first():
    train = labelled({"a": 10, "b": 4}, length=6, channels=2, seed=1)
    out = smote_oversample(train, seed=0)
    assert np.unique(out.y, return_counts=True)[1].tolist() == [10, 10]
    assert out.X.shape == (20, 2, 6)
    np.testing.assert_array_equal(out.X[:14], train.X)
    np.testing.assert_array_equal(out.y[:14], train.y)
    np.testing.assert_array_equal(out.meta["synthetic"], [False] * 14 + [True] * 6)
    assert (out.y[14:] == "b").all()
    # synthetic cases lie on segments between class-b cases: inside their bounding box
    b = train.X[train.y == "b"]
    assert (out.X[14:] >= b.min(axis=0) - 1e-12).all() and (out.X[14:] <= b.max(axis=0) + 1e-12).all()
    assert out.meta["smote"]["k_neighbors"] == 3  # 4 cases -> at most 3 neighbours
    np.testing.assert_array_equal(out.lengths, np.full(20, 6))


def test_smote_only_touches_the_training_split():
    data = labelled({0: 40, 1: 10}, length=5, name="Imb")
    parts = stratified_split(data, seed=0)
    val_before = parts["val"].X.copy()
    out = smote_oversample(parts["train"])
    assert np.unique(out.y, return_counts=True)[1].tolist() == [24, 24]
    np.testing.assert_array_equal(parts["val"].X, val_before)
    with pytest.raises(ValueError, match="training split only.*'test'"):
        smote_oversample(parts["test"])


def test_smote_refusals_and_k_reduction():
    with pytest.raises(ValueError, match="one case"):
        smote_oversample(labelled({0: 10, 1: 1}))
    assert smote_oversample(labelled({0: 10, 1: 3})).meta["smote"]["k_neighbors"] == 2
    gappy = labelled({0: 5, 1: 5})
    gappy.X[0, 0, 2] = nan
    with pytest.raises(ValueError, match="finite"):
        smote_oversample(gappy)
    with pytest.raises(ValueError, match="equal-length"):
        smote_oversample(make([[1, 2, 3], [1, 2, nan], [3, 4, 5]], y=[0, 0, 1]))


# --------------------------------------------------------------------------- observed_future_split
def test_observed_future_split_uses_true_lengths():
    data = make([[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, nan, nan]], y=[0, 1])
    observed, future = observed_future_split(data, 2)
    assert future.shape == (2, 1, 2)
    np.testing.assert_array_equal(future[:, 0], [[5, 6], [3, 4]])
    np.testing.assert_array_equal(observed.lengths, [4, 2])
    assert observed.X.shape == (2, 1, 4)
    np.testing.assert_array_equal(observed.X[0, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(observed.X[1, 0], [1, 2, nan, nan])
    np.testing.assert_array_equal(observed.y, [0, 1])


def test_observed_future_split_multichannel_and_too_short():
    X = np.arange(2 * 3 * 50, dtype=float).reshape(2, 3, 50)
    observed, future = observed_future_split(TimeSeriesData(X=X, y=None, lengths=[50, 50]), 10)
    assert observed.X.shape == (2, 3, 40) and future.shape == (2, 3, 10)
    np.testing.assert_array_equal(future, X[:, :, 40:])
    with pytest.raises(ValueError, match="case 1 has length 3"):
        observed_future_split(make([[1, 2, 3, 4], [1, 2, 3, nan]]), 3)


# --------------------------------------------------------------------------- random_missing
def _ragged(seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(30, 51, size=20)
    X = rng.standard_normal((20, 2, 50))
    X[np.broadcast_to(np.arange(50)[None, None, :] >= lengths[:, None, None], X.shape)] = nan
    return TimeSeriesData(X=X, y=None, lengths=lengths)


def test_random_missing_timestep_rate_and_padding_untouched():
    data = _ragged()
    n_steps = int(data.lengths.sum())
    out = random_missing(data, 0.3, seed=4)
    removed = np.isnan(out.X) & ~np.isnan(data.X)
    assert removed.sum() == 2 * int(n_steps * 0.3)  # whole time steps: both channels
    assert (removed[:, 0] == removed[:, 1]).all()
    within = np.arange(50)[None, :] < data.lengths[:, None]
    assert not removed.any(axis=1)[~within].any()  # nothing outside the true lengths
    assert abs(removed.any(axis=1).sum() / n_steps - 0.3) < 1 / n_steps
    np.testing.assert_array_equal(out.lengths, data.lengths)
    np.testing.assert_array_equal(random_missing(data, 0.3, seed=4).X, out.X)  # reproducible


def test_random_missing_value_unit_and_bad_rate():
    data = _ragged(1)
    n_values = int(np.isfinite(data.X).sum())
    out = random_missing(data, 0.5, unit="value")
    assert np.isnan(out.X).sum() - np.isnan(data.X).sum() == int(n_values * 0.5)
    np.testing.assert_array_equal(random_missing(data, 0.0).X, data.X)
    for rate in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            random_missing(data, rate)


# --------------------------------------------------------------------------- windows
def test_sliding_windows_counts_and_values():
    x = np.arange(10)
    w = sliding_windows(x, 3)
    assert w.shape == (8, 3)
    np.testing.assert_array_equal(w[0], [0, 1, 2])
    np.testing.assert_array_equal(w[-1], [7, 8, 9])
    np.testing.assert_array_equal(sliding_windows(x, 3, stride=3), [[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    cube = np.zeros((4, 2, 45))
    assert sliding_windows(cube, 6).shape == (4, 2, 40, 6)
    with pytest.raises(ValueError, match="longer"):
        sliding_windows(x, 11)


def test_forecasting_windows_inputs_and_targets():
    values = np.arange(20.0).reshape(10, 2)
    inputs, targets = forecasting_windows(values, lookback=3, horizon=2)
    assert inputs.shape == (6, 3, 2) and targets.shape == (6, 2, 2)
    np.testing.assert_array_equal(inputs[0], values[0:3])
    np.testing.assert_array_equal(targets[0], values[3:5])
    np.testing.assert_array_equal(targets[-1], values[8:10])
    inputs, targets = forecasting_windows(values, 3, 2, stride=2)
    assert len(inputs) == 3
    np.testing.assert_array_equal(inputs[1], values[2:5])
    assert forecasting_windows(np.arange(7.0), 2, 1)[0].shape == (5, 2, 1)
    with pytest.raises(ValueError, match="fewer"):
        forecasting_windows(values, 8, 3)


# --------------------------------------------------------------------------- equal lengths
def test_resample_to_length_linear():
    data = make([[1, 2, 3], [0, 10, nan]], y=["a", "b"])
    out = resample_to_length(data, 5)
    np.testing.assert_allclose(out.X[0, 0], [1, 1.5, 2, 2.5, 3])
    np.testing.assert_allclose(out.X[1, 0], [0, 2.5, 5, 7.5, 10])
    np.testing.assert_array_equal(out.lengths, [5, 5])
    np.testing.assert_array_equal(out.meta["original_lengths"], [3, 2])
    assert out.equal_length
    with pytest.raises(ValueError, match="fill gaps"):
        resample_to_length(make([[1, nan, 3]]), 5)


def test_pad_to_length():
    data = make([[1, 2, nan], [1, nan, 3]])
    out = pad_to_length(data, 4)
    np.testing.assert_array_equal(out.X[:, 0], [[1, 2, 0, 0], [1, nan, 3, 0]])  # the gap stays NaN
    np.testing.assert_array_equal(out.lengths, [4, 4])
    kept = pad_to_length(data, 4, value=nan)
    np.testing.assert_array_equal(kept.lengths, [2, 3])
    assert kept.X.shape == (2, 1, 4)
    with pytest.raises(ValueError, match="never truncates"):
        pad_to_length(data, 2)


@pytest.mark.real_data
def test_physionet_last_hours_whole_training_set_a(real_data_dir):
    from tsmtl.data.physionet import load_physionet

    frame = load_physionet(real_data_dir / "physionet2019_sepsis" / "training_setA.tar.gz")
    data = physionet_last_hours(frame)
    # SOURCES.md: 20,336 patients, 1,790 septic, ICU stays of 8-336 hours
    assert data.X.shape == (20336, 10, 45)
    assert int(data.y.sum()) == 1790
    assert data.lengths.min() == 8 and data.lengths.max() == 45
    # septic in the stay <=> septic within the kept last hours (the label stays 1 to the end)
    np.testing.assert_array_equal(data.y, (np.nan_to_num(data.meta["sepsis_label"]) == 1).any(axis=1))


#: Every public name of ``tsmtl/data/preprocessing.py`` before issue #11 split it into a package.
PUBLIC_NAMES_BEFORE_THE_SPLIT = (
    "adf_difference", "adf_difference_dataset", "adf_difference_frame", "forecasting_windows", "forward_fill",
    "forward_fill_frame", "holdout_validation_split", "merge_splits", "observed_future_split", "pad_to_length",
    "physionet_last_hours", "random_missing", "resample_to_length", "sliding_windows", "smote_oversample",
    "stratified_split", "z_normalise",
)  # fmt: skip


def test_package_still_offers_every_name_of_the_old_module():
    """``from tsmtl.data.preprocessing import X`` (users' notebooks) gives the function its module defines."""
    import tsmtl.data.preprocessing as package
    from tsmtl.data.preprocessing import cleaning, lengths, recipes, splits, windows

    defined: dict[str, object] = {}
    for module in (cleaning, lengths, recipes, splits, windows):
        for name in module.__all__:
            assert name not in defined, f"{name} is exported by two modules"
            defined[name] = getattr(module, name)
    assert sorted(package.__all__) == sorted(defined) == sorted(PUBLIC_NAMES_BEFORE_THE_SPLIT)
    for name in PUBLIC_NAMES_BEFORE_THE_SPLIT:
        assert getattr(package, name) is defined[name], name


# ------------------------------------------------------------------ errors name the data (#11 "Bad input, one more pass")
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: sliding_windows(np.arange(5.0), 6, name="A1/real_3"),
            r"^A1/real_3: window 6 is longer than the series \(5 points\)",
        ),
        (lambda: sliding_windows(np.arange(5.0), 2, stride=0, name="A1/real_3"), r"^A1/real_3: window and stride must be >= 1"),
        (
            lambda: forecasting_windows(np.ones((10, 7)), 8, 4, name="ETTh1 test"),
            r"^ETTh1 test: 10 time points are fewer than lookback \+ horizon = 12",
        ),
        (
            lambda: forecasting_windows(np.ones((10, 7)), 0, 4, name="ETTh1 test"),
            r"^ETTh1 test: lookback and horizon must be >= 1",
        ),
    ],
)
def test_window_errors_name_the_data(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_window_errors_without_a_name_are_unchanged():
    with pytest.raises(ValueError, match=r"^window 6 is longer than the series"):
        sliding_windows(np.arange(5.0), 6)


def test_unnamed_data_is_called_so_in_errors():
    with pytest.raises(ValueError, match=r"^<unnamed dataset>: lengths must have shape \(2,\)"):
        TimeSeriesData(X=np.zeros((2, 1, 3)), y=None, lengths=np.array([3]))
    with pytest.raises(ValueError, match=r"^<unnamed dataset>: stratified_split needs class labels"):
        stratified_split(TimeSeriesData(X=np.zeros((2, 1, 3)), y=None, lengths=np.array([3, 3])))


def _sepsis_frame(labels, source=None):
    frame = pd.DataFrame({"patient_id": ["p1"] * len(labels), "HR": np.arange(len(labels), dtype=float), "SepsisLabel": labels})
    if source:
        frame.attrs["source"] = source
    return frame


@pytest.mark.parametrize("bad", [2.0, 0.5, -1.0])
def test_physionet_last_hours_refuses_a_label_outside_0_1_naming_the_source(bad):
    frame = _sepsis_frame([0.0, bad, 1.0], source="sepsis/training_setA.tar.gz")
    with pytest.raises(
        ValueError,
        match=rf"^sepsis/training_setA.tar.gz: 'SepsisLabel' must be 0 or 1 \(NaN: no label\), "
        rf"found {bad:g} for patient_id 'p1' \(row 1\)",
    ):
        physionet_last_hours(frame, hours=3, features=["HR"])


def test_physionet_last_hours_takes_nan_labels_and_names_the_function_without_a_source():
    data = physionet_last_hours(_sepsis_frame([0.0, np.nan, 1.0]), hours=3, features=["HR"])
    assert data.y.tolist() == [1]
    with pytest.raises(ValueError, match=r"^physionet_last_hours: frame lacks columns \['Temp'\]"):
        physionet_last_hours(_sepsis_frame([0.0]), hours=3, features=["Temp"])


def test_frame_errors_name_the_file_the_frame_came_from(tmp_path):
    from tsmtl.data.physionet import PHYSIONET_COLUMNS, read_psv

    path = tmp_path / "p000001.psv"
    path.write_text("|".join(PHYSIONET_COLUMNS) + "\n" + "|".join(["NaN"] * 39 + ["1", "0"]) + "\n")
    frame = read_psv(path)
    assert frame.attrs["source"] == str(path)
    frame.insert(0, "patient_id", "p000001")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: columns \['Pulse'\] not in the frame"):
        forward_fill_frame(frame, columns=["Pulse"])
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: frame lacks columns \['Pulse'\]"):
        physionet_last_hours(frame, features=["Pulse"])
