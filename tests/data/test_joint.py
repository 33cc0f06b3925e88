"""Joint-prediction data: PhysioNet 2019 hourly windows, group splits, train-only scaling, ETTh1."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tsmtl.data.ett import ETT_COLUMNS, load_ett, split_ett
from tsmtl.data.joint import (
    HOURLY_FEATURES,
    JointTaskData,
    describe_joint,
    ett_joint_windows,
    physionet_hourly_windows,
    split_by_group,
    standardise_joint,
    unscale_target,
)
from tsmtl.data.physionet import load_physionet

nan = np.nan
FEATURES = ("HR", "Temp", "Lactate")


def tiny_frame() -> pd.DataFrame:
    """Three stays: p1 (4 h), p2 (3 h), p3 (1 h); only the columns the tests use."""
    rows = [
        # patient, HR,  Temp, Lactate, SepsisLabel
        ("p1", 80.0, nan, nan, 0.0),
        ("p1", nan, 37.0, nan, 0.0),
        ("p1", 90.0, nan, nan, 1.0),
        ("p1", nan, 38.0, nan, 1.0),
        ("p2", nan, 36.5, 2.0, 0.0),
        ("p2", 70.0, nan, nan, 0.0),
        ("p2", nan, nan, nan, 0.0),
        ("p3", nan, 39.0, nan, 0.0),
    ]
    return pd.DataFrame(rows, columns=["patient_id", "HR", "Temp", "Lactate", "SepsisLabel"])


def tiny_windows(**kwargs) -> JointTaskData:
    options = {"window": 2, "features": FEATURES, "next_hour": ("HR", "Temp")}
    return physionet_hourly_windows(tiny_frame(), **{**options, **kwargs})


# Forward-filled hours, written by hand: (HR, Temp, Lactate) per row of tiny_frame().
FILLED = [
    (80, nan, nan), (80, 37, nan), (90, 37, nan), (90, 38, nan),  # p1
    (nan, 36.5, 2), (70, 36.5, 2), (70, 36.5, 2),  # p2: nothing carried over from p1
    (nan, 39, nan),  # p3: nothing carried over from p2
]  # fmt: skip


def assert_same(actual, expected):
    np.testing.assert_array_equal(
        np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    )


# ----------------------------------------------------------------------------- hourly windows
def test_hourly_windows_by_hand():
    data = tiny_windows()
    assert data.X.dtype == np.float32 and data.X.shape == (8, 3, 2)
    assert data.channels == FEATURES and data.name == "PhysioNet2019"
    assert list(data.groups) == ["p1"] * 4 + ["p2"] * 3 + ["p3"]
    assert_same(data.lengths, [1, 2, 2, 2, 1, 2, 2, 1])
    assert_same(data.meta["case_info"]["hour"], [0, 1, 2, 3, 0, 1, 2, 0])
    # window of hour t = hours t-1, t (left-aligned); first hour of a stay: hour 0 then padding
    pad = (nan, nan, nan)
    expected = [
        (FILLED[0], pad), (FILLED[0], FILLED[1]), (FILLED[1], FILLED[2]), (FILLED[2], FILLED[3]),
        (FILLED[4], pad), (FILLED[4], FILLED[5]), (FILLED[5], FILLED[6]),
        (FILLED[7], pad),
    ]  # fmt: skip
    assert_same(data.X, np.array(expected).transpose(0, 2, 1))
    assert data.tasks == ("sepsis", "HR_next", "Temp_next")
    assert_same(data.targets["sepsis"], [0, 0, 1, 1, 0, 0, 0, 0])
    # raw next-hour values: p1 hour 2 -> HR not measured at hour 3 (NaN, not the filled 90);
    # last hours (p1 h3, p2 h2, p3 h0) are NaN although the next patient's first row has a value
    assert_same(data.targets["HR_next"], [nan, 90, nan, nan, 70, nan, nan, nan])
    assert_same(data.targets["Temp_next"], [37, nan, 38, nan, nan, nan, nan, nan])


def test_forward_fill_never_crosses_patients():
    data = tiny_windows(window=1)
    hr, temp, lactate = (data.X[:, c, 0] for c in range(3))
    assert np.isnan(hr[4])  # p2's first hour does not inherit p1's 90
    assert np.isnan(hr[7]) and np.isnan(lactate[7])  # p3 inherits neither 70 nor 2.0 from p2
    assert np.isnan(temp[0])  # before Temp's first measurement: a gap (NaN), never filled
    assert_same(data.lengths, [1] * 8)


def test_long_window_pads_at_the_end():
    data = tiny_windows(window=5)
    assert data.X.shape == (8, 3, 5)
    assert_same(data.lengths, [1, 2, 3, 4, 1, 2, 3, 1])
    assert_same(data.X[3, 0], [80, 80, 90, 90, nan])  # p1 hour 3: hours 0..3, then padding
    assert_same(data.X[6, 1], [36.5, 36.5, 36.5, nan, nan])
    inside = np.arange(5)[None, :] < data.lengths[:, None]
    assert np.isnan(data.X.transpose(0, 2, 1)[~inside]).all()


def test_stride_keeps_every_kth_hour_of_each_stay():
    data = tiny_windows(stride=2)
    # hours 0, 2 of p1; 0, 2 of p2; 0 of p3 = ceil(4/2) + ceil(3/2) + ceil(1/2) = 5 cases
    assert data.n_cases == 5
    assert_same(data.meta["case_info"]["row"], [0, 2, 4, 6, 7])
    assert_same(data.meta["case_info"]["hour"], [0, 2, 0, 2, 0])
    assert_same(data.lengths, [1, 2, 1, 2, 1])
    assert_same(data.X[1, 0], [80, 90])  # p1 hour 2: hours 1 and 2
    assert_same(data.targets["HR_next"], [nan, nan, 70, nan, nan])
    assert_same(data.targets["sepsis"], [0, 1, 0, 0, 0])


def test_interleaved_rows_give_the_same_cases():
    frame = tiny_frame()
    order = [0, 4, 1, 5, 7, 2, 6, 3]  # patients interleaved, each patient's hours in order
    shuffled = physionet_hourly_windows(
        frame.iloc[order].reset_index(drop=True),
        window=2,
        features=FEATURES,
        next_hour=("HR", "Temp"),
    )
    reference = tiny_windows()
    assert_same(shuffled.X, reference.X)
    for task in reference.tasks:
        assert_same(shuffled.targets[task], reference.targets[task])
    assert list(shuffled.groups) == list(reference.groups)
    # "row" points into the frame that was passed in
    assert_same(shuffled.meta["case_info"]["row"], [0, 2, 5, 7, 1, 3, 6, 4])


def test_hourly_windows_errors_name_the_dataset():
    frame = tiny_frame()
    with pytest.raises(ValueError, match=r"PhysioNet2019: frame lacks columns \['O2Sat'\]"):
        physionet_hourly_windows(frame, features=("HR", "O2Sat"), next_hour=())
    with pytest.raises(ValueError, match=r"setX: frame lacks columns \['MAP'\]"):
        physionet_hourly_windows(frame, features=FEATURES, next_hour=("MAP",), name="setX")
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        physionet_hourly_windows(frame, window=0, features=FEATURES, next_hour=())
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        physionet_hourly_windows(frame, stride=0, features=FEATURES, next_hour=())
    with pytest.raises(ValueError, match="no rows"):
        physionet_hourly_windows(frame.iloc[:0], features=FEATURES, next_hour=())
    bad = frame.assign(SepsisLabel=frame["SepsisLabel"].replace(1.0, 2.0))
    with pytest.raises(ValueError, match="'SepsisLabel' must be 0/1"):
        physionet_hourly_windows(bad, features=FEATURES, next_hour=())
    # every default feature is required
    with pytest.raises(ValueError, match="frame lacks columns"):
        physionet_hourly_windows(frame)


# ----------------------------------------------------------------------------- the type
def test_joint_task_data_validates_and_coerces():
    X = np.zeros((3, 2, 4))
    data = JointTaskData(
        X=X, lengths=[4, 2, 0], targets={"a": [1, 0, 1], "b": np.ones((3, 5))}, name="toy"
    )
    assert data.X.dtype == np.float32 and data.lengths.dtype == np.int64
    assert data.targets["a"].dtype == np.float64 and data.tasks == ("a", "b")
    assert (data.n_cases, data.n_channels, data.n_timepoints) == (3, 2, 4)
    with pytest.raises(ValueError, match=r"toy: target 'a' must have shape \(3,\)"):
        JointTaskData(X=X, lengths=[4, 4, 4], targets={"a": [1, 0]}, name="toy")
    with pytest.raises(ValueError, match=r"toy: lengths must lie in \[0, 4\]"):
        JointTaskData(X=X, lengths=[4, 5, 4], targets={}, name="toy")
    with pytest.raises(ValueError, match="toy: X must be 3-D"):
        JointTaskData(X=np.zeros((3, 4)), lengths=[4, 4, 4], targets={}, name="toy")
    with pytest.raises(ValueError, match=r"toy: groups must have shape \(3,\)"):
        JointTaskData(X=X, lengths=[4, 4, 4], targets={}, groups=["g"], name="toy")
    with pytest.raises(ValueError, match="toy: 1 channel names for 2 channels"):
        JointTaskData(X=X, lengths=[4, 4, 4], targets={}, channels=("c",), name="toy")
    with pytest.raises(ValueError, match=r"case_info.*'hour'.* must have 3 rows"):
        JointTaskData(
            X=X, lengths=[4, 4, 4], targets={}, meta={"case_info": {"hour": [1]}}, name="toy"
        )


def test_subset_keeps_everything_aligned():
    data = tiny_windows()
    part = data.subset([6, 1], note="x")
    assert_same(part.X, data.X[[6, 1]])
    assert_same(part.lengths, [2, 2])
    assert_same(part.targets["HR_next"], [nan, 90])
    assert list(part.groups) == ["p2", "p1"]
    assert_same(part.meta["case_info"]["hour"], [2, 1])
    assert part.meta["note"] == "x" and part.n_timepoints == data.n_timepoints
    mask = data.groups == "p3"
    only = data.subset(mask)
    assert only.n_cases == 1 and only.n_timepoints == 2  # the time axis is not cut
    with pytest.raises(ValueError, match="boolean index must have shape"):
        data.subset(mask[:3])
    split = data.subset([1, 3, 5], source_index=np.array([1, 3, 5]))
    assert_same(split.subset([2, 0]).meta["source_index"], [5, 1])  # still points into data


def test_label_coverage():
    data = tiny_windows()
    coverage = data.label_coverage()
    assert coverage == {"sepsis": 1.0, "HR_next": 2 / 8, "Temp_next": 2 / 8}
    two_d = JointTaskData(
        X=np.zeros((4, 1, 1)),
        lengths=[1] * 4,
        targets={"f": [[1, 2], [nan, 2], [1, nan], [3, 4]]},
    )
    assert two_d.label_coverage() == {"f": 0.5}  # a case counts only with its whole horizon


def test_describe_joint_by_hand():
    table = describe_joint({"all": tiny_windows()}).set_index("task")
    assert table.loc["sepsis", "kind"] == "binary" and table.loc["sepsis", "positive_rate"] == 0.25
    assert table.loc["HR_next", "kind"] == "regression"
    assert (table.loc["HR_next", "mean"], table.loc["HR_next", "std"]) == (80.0, 10.0)  # 90, 70
    assert table.loc["Temp_next", "coverage"] == 0.25
    assert (table["n_cases"] == 8).all() and (table["n_groups"] == 3).all()
    assert math.isnan(table.loc["sepsis", "mean"]) and math.isnan(
        table.loc["HR_next", "positive_rate"]
    )


# ----------------------------------------------------------------------------- group split
def grouped(n_groups: int = 50, n_positive: int = 10, seed: int = 1) -> JointTaskData:
    """Groups of 1-6 cases; groups 0..n_positive-1 have one positive case (the last)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 7, size=n_groups)
    groups = np.repeat([f"g{i:03d}" for i in range(n_groups)], sizes)
    label = np.zeros(len(groups))
    ends = np.cumsum(sizes) - 1
    label[ends[:n_positive]] = 1
    n = len(groups)
    return JointTaskData(
        X=rng.normal(size=(n, 2, 3)),
        lengths=np.full(n, 3),
        targets={"sepsis": label, "y": rng.normal(size=n)},
        groups=groups,
        name="toy",
    )


@pytest.mark.parametrize("seed", range(6))
def test_split_by_group_is_disjoint_complete_and_stratified(seed):
    data = grouped()
    parts = split_by_group(data, seed=seed)
    members = {name: set(part.groups) for name, part in parts.items()}
    assert not members["train"] & members["val"] and not members["train"] & members["test"]
    assert not members["val"] & members["test"]
    assert [len(members[k]) for k in ("train", "val", "test")] == [30, 10, 10]  # 60/20/20 of 50
    every = np.sort(np.concatenate([p.meta["source_index"] for p in parts.values()]))
    assert_same(every, np.arange(data.n_cases))  # every case in exactly one split
    for name, part in parts.items():
        septic = set(part.groups[part.targets["sepsis"] == 1])
        assert len(septic) == {"train": 6, "val": 2, "test": 2}[name]  # 20 % of each split
        assert_same(part.X, data.X[part.meta["source_index"]])
        assert part.meta["split"] == name and part.meta["split_seed"] == seed


def test_split_by_group_is_reproducible_and_ignores_case_order():
    data = grouped()
    first = split_by_group(data, seed=0)
    again = split_by_group(data, seed=0)
    other = split_by_group(data, seed=1)
    assert all(set(first[k].groups) == set(again[k].groups) for k in first)
    assert set(first["test"].groups) != set(other["test"].groups)
    permuted = data.subset(np.random.default_rng(0).permutation(data.n_cases))
    shuffled = split_by_group(permuted, seed=0)
    assert all(set(first[k].groups) == set(shuffled[k].groups) for k in first)


def test_split_by_group_without_stratification_and_other_fractions():
    data = grouped(n_groups=40, n_positive=0)
    parts = split_by_group(data, fractions=(0.5, 0.25, 0.25), stratify=None)
    assert [len(set(parts[k].groups)) for k in ("train", "val", "test")] == [20, 10, 10]


def test_split_by_group_errors():
    data = grouped()
    with pytest.raises(ValueError, match="toy: fractions must be positive and sum to 1"):
        split_by_group(data, fractions=(0.6, 0.2, 0.1))
    with pytest.raises(ValueError, match="toy: split_by_group needs groups"):
        split_by_group(
            JointTaskData(X=data.X, lengths=data.lengths, targets=data.targets, name="toy")
        )
    with pytest.raises(ValueError, match="toy: 3 groups are too few.*val, test would get no group"):
        split_by_group(grouped(n_groups=3, n_positive=0), stratify=None, fractions=(0.8, 0.1, 0.1))
    with pytest.raises(ValueError, match="toy: no task 'septic'"):
        split_by_group(data, stratify="septic")
    with pytest.raises(ValueError, match="toy: stratify task 'y' must be 0/1"):
        split_by_group(data, stratify="y")
    with pytest.raises(ValueError, match="toy: 2 groups with a positive 'sepsis'"):
        split_by_group(grouped(n_positive=2))


# ----------------------------------------------------------------------------- standardisation
def scaling_splits(val_X=None) -> dict[str, JointTaskData]:
    train_X = np.array(
        [
            [[1, 2, 3], [10, nan, 10], [7, 7, 7]],
            [[nan, 6, 1000], [20, 20, nan], [7, 7, nan]],  # length 2: the 1000 is padding, ignored
        ]
    )
    if val_X is None:
        val_X = np.array([[[100, nan, nan], [15, 25, nan], [8, nan, nan]]])
    val_n = len(val_X)
    sepsis = np.zeros(val_n)
    return {
        "train": JointTaskData(
            X=train_X,
            lengths=[3, 2],
            targets={"sepsis": [0, 1], "y": [1, 3]},
            channels=("a", "b", "c"),
            name="toy",
        ),
        "val": JointTaskData(
            X=val_X,
            lengths=np.ones(val_n, dtype=int) * 2,
            targets={"sepsis": sepsis, "y": np.r_[5.0, [nan] * (val_n - 1)]},
            channels=("a", "b", "c"),
            name="toy",
        ),
    }


def test_standardise_uses_train_statistics_only():
    out = standardise_joint(scaling_splits(), regression_tasks=("y",))
    scaling = out["train"].meta["input_scaling"]
    # a: 1, 2, 3, 6 -> mean 3, population std sqrt(3.5); b: 10, 10, 20, 20 -> 15, 5;
    # c: constant 7 -> std 0, replaced by 1
    np.testing.assert_allclose(scaling["mean"], [3, 15, 7])
    np.testing.assert_allclose(scaling["std"], [math.sqrt(3.5), 5, 1])
    assert_same(scaling["n_observed"], [4, 4, 5])
    s = math.sqrt(3.5)
    expected_train = [
        [[-2 / s, -1 / s, 0], [-1, 0, -1], [0, 0, 0]],  # b's gap -> 0 (the training mean)
        [[0, 3 / s, nan], [1, 1, nan], [0, 0, nan]],  # a's gap -> 0; padding stays NaN
    ]
    np.testing.assert_allclose(out["train"].X, np.array(expected_train), rtol=1e-6)
    np.testing.assert_allclose(
        out["val"].X, [[[97 / s, 0, nan], [0, 2, nan], [1, 0, nan]]], rtol=1e-6
    )
    # val values far away do not move the statistics
    other = standardise_joint(
        scaling_splits(val_X=np.full((4, 3, 3), 1e6)), regression_tasks=("y",)
    )
    np.testing.assert_array_equal(other["train"].meta["input_scaling"]["mean"], scaling["mean"])
    np.testing.assert_array_equal(other["train"].X, out["train"].X)


def test_standardise_targets_recorded_and_invertible():
    splits = scaling_splits()
    out = standardise_joint(splits, regression_tasks=("y",), impute=-9.0)
    assert out["val"].meta["target_scaling"]["y"] == (2.0, 1.0)  # train y: 1, 3
    assert_same(out["train"].targets["y"], [-1, 1])
    assert_same(out["val"].targets["y"], [3])
    assert_same(out["val"].targets["sepsis"], splits["val"].targets["sepsis"])  # untouched
    assert_same(unscale_target(out["val"], "y", out["val"].targets["y"]), [5])
    assert_same(unscale_target(out["val"], "sepsis", [0.3]), [0.3])
    assert out["train"].X[1, 0, 0] == -9.0 and np.isnan(out["train"].X[1, 0, 2])  # gap vs padding
    # scaling twice still maps back to the original units
    twice = standardise_joint(out, regression_tasks=("y",))
    assert_same(unscale_target(twice["val"], "y", twice["val"].targets["y"]), [5])
    back = twice["train"].X * twice["train"].meta["input_scaling"]["std"][None, :, None]
    back = back + twice["train"].meta["input_scaling"]["mean"][None, :, None]
    np.testing.assert_allclose(back[0, 0], [1, 2, 3], rtol=1e-5)


def test_standardise_errors():
    splits = scaling_splits()
    with pytest.raises(ValueError, match="needs a 'train' split"):
        standardise_joint({"val": splits["val"]}, regression_tasks=())
    with pytest.raises(
        ValueError,
        match=r"toy: regression tasks \['HR_next', 'MAP_next', 'Resp_next', 'Temp_next'\] not in",
    ):
        standardise_joint(splits)  # the default names the PhysioNet next-hour tasks
    fewer = JointTaskData(
        X=splits["val"].X,
        lengths=splits["val"].lengths,
        targets={"y": [1.0]},
        channels=("a", "b", "c"),
    )
    with pytest.raises(ValueError, match="toy: split 'val' has tasks"):
        standardise_joint({"train": splits["train"], "val": fewer}, regression_tasks=())
    renamed = JointTaskData(
        X=splits["val"].X,
        lengths=splits["val"].lengths,
        targets=splits["val"].targets,
        channels=("a", "b", "x"),
    )
    with pytest.raises(ValueError, match="toy: split 'val' has channels"):
        standardise_joint({"train": splits["train"], "val": renamed}, regression_tasks=())


# ----------------------------------------------------------------------------- ETT, synthetic
def synthetic_ett(n_rows: int = 14_400) -> pd.DataFrame:
    """Hourly frame whose value at row r, column k is r + 1000 * k (every row identifiable)."""
    index = pd.date_range("2016-07-01", periods=n_rows, freq="h", name="date")
    rows = np.arange(n_rows, dtype=np.float64)[:, None]
    return pd.DataFrame(
        rows + 1000.0 * np.arange(7)[None, :], index=index, columns=list(ETT_COLUMNS)
    )


def test_ett_windows_synthetic_rows():
    frame = synthetic_ett()
    splits = split_ett(frame, "ETTh1", lookback=10)
    windows = ett_joint_windows(splits, lookback=10, targets=("OT", "LULL"), horizons=(2, 5))
    # N = rows - lookback - max horizon + 1: 8640 - 10 - 5 + 1; val/test (2880 + 10) - 10 - 5 + 1
    assert [windows[k].n_cases for k in ("train", "val", "test")] == [8626, 2876, 2876]
    test = windows["test"]
    assert test.tasks == ("OT@2", "OT@5", "LULL@2", "LULL@5")
    original = {task: unscale_target(test, task, values) for task, values in test.targets.items()}
    # first test window: input rows 11510..11519, OT targets rows 11520.. (OT is column 6)
    assert_same(original["OT@5"][0], 6000 + np.arange(11520, 11525))
    assert_same(original["LULL@5"][-1], 5000 + np.arange(14395, 14400))  # ends at the test border
    # every task has the same cases, so the 2-hour task's last target ends 3 rows earlier
    assert_same(original["LULL@2"][-1], 5000 + np.array([14395, 14396]))
    inputs = (
        test.X[0].astype(np.float64) * splits.scaler.scale_[:, None] + splits.scaler.mean_[:, None]
    )
    np.testing.assert_allclose(inputs[0], np.arange(11510, 11520), rtol=1e-5)
    train_last = unscale_target(windows["train"], "OT@5", windows["train"].targets["OT@5"][-1])
    assert train_last[-1] == 6000 + 8639  # train targets stop at the train border
    assert windows["val"].meta["case_info"]["start_row"][0] == 8630
    assert windows["val"].X.dtype == np.float32 and (windows["val"].lengths == 10).all()


def test_ett_windows_shorter_lookback_and_stride():
    splits = split_ett(synthetic_ett(), "ETTh1", lookback=20)
    windows = ett_joint_windows(splits, lookback=8, horizons=(4,), stride=3)
    val = windows["val"]
    first = unscale_target(val, "OT@4", val.targets["OT@4"][0])
    assert_same(first, 6000 + np.arange(8640, 8644))  # targets still start at the val border
    # val rows: 2880 + 20 prepended; the first window starts at offset 20 - 8 = 12
    assert val.n_cases == (2900 - 12 - 8 - 4) // 3 + 1 == 959
    assert_same(np.diff(val.meta["case_info"]["start_row"][:3]), [3, 3])
    with pytest.raises(ValueError, match="ETTh1: the splits prepend 20 rows .* lookback=30"):
        ett_joint_windows(splits, lookback=30)
    with pytest.raises(ValueError, match="target columns must be among"):
        ett_joint_windows(splits, lookback=8, targets=("OT", "XX"))
    with pytest.raises(ValueError, match="every horizon must be an integer >= 1"):
        ett_joint_windows(splits, lookback=8, horizons=(0,))


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def physionet_500(real_data_dir) -> pd.DataFrame:
    return load_physionet(
        real_data_dir / "physionet2019_sepsis" / "training_setA.tar.gz", max_patients=500
    )


def reference_windows(frame: pd.DataFrame, window: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A slow, independent construction (loop over patients and hours) to compare against."""
    cases, nxt = [], {v: [] for v in ("HR", "MAP", "Resp", "Temp")}
    for _, stay in frame.groupby("patient_id", sort=True):
        filled = stay[list(HOURLY_FEATURES)].ffill().to_numpy()
        for t in range(len(stay)):
            block = np.full((window, len(HOURLY_FEATURES)), nan)
            hours = filled[max(0, t - window + 1) : t + 1]
            block[: len(hours)] = hours
            cases.append(block.T)
        for var in nxt:
            nxt[var].extend(stay[var].shift(-1).tolist())
    return np.array(cases), {f"{v}_next": np.array(x) for v, x in nxt.items()}


@pytest.mark.real_data
def test_physionet_500_patients_match_a_reference(physionet_500):
    frame = physionet_500
    data = physionet_hourly_windows(frame, window=6)
    assert data.n_cases == len(frame) == 19_424 and len(set(data.groups)) == 500
    X, nxt = reference_windows(frame, window=6)
    np.testing.assert_array_equal(data.X, X.astype(np.float32))
    for task, values in nxt.items():
        assert_same(data.targets[task], values)
    assert_same(data.targets["sepsis"], frame["SepsisLabel"])
    assert data.targets["sepsis"].sum() == 432  # measured: 2.22 % of the 19,424 hours
    assert "EtCO2" not in data.channels


@pytest.mark.real_data
def test_physionet_500_split_and_standardise(physionet_500):
    data = physionet_hourly_windows(physionet_500)
    parts = split_by_group(data, seed=0)
    assert [len(set(parts[k].groups)) for k in ("train", "val", "test")] == [300, 100, 100]
    septic = {k: len(set(p.groups[p.targets["sepsis"] == 1])) for k, p in parts.items()}
    assert septic == {"train": 27, "val": 9, "test": 9}  # 45 septic patients, 60/20/20
    out = standardise_joint(parts)
    train = out["train"]
    inside = (np.arange(train.n_timepoints)[None, :] < train.lengths[:, None])[:, None, :]
    inside = np.broadcast_to(inside, train.X.shape)
    assert np.isfinite(train.X[inside]).all() and np.isnan(train.X[~inside]).all()
    hr = train.X[:, HOURLY_FEATURES.index("HR"), :]
    observed = parts["train"].X[:, HOURLY_FEATURES.index("HR"), :]
    z = hr[np.isfinite(observed)]
    assert abs(z.mean()) < 1e-4 and abs(z.std() - 1) < 1e-4
    for task in ("HR_next", "Temp_next"):
        back = unscale_target(out["test"], task, out["test"].targets[task])
        np.testing.assert_allclose(back, parts["test"].targets[task], rtol=1e-9)


@pytest.mark.real_data
def test_physionet_full_set_a(real_data_dir):
    frame = load_physionet(real_data_dir / "physionet2019_sepsis" / "training_setA.tar.gz")
    data = physionet_hourly_windows(frame)
    assert data.X.shape == (790_215, len(HOURLY_FEATURES), 12) and data.X.dtype == np.float32
    assert len(set(data.groups)) == 20_336
    positives = int(data.targets["sepsis"].sum())
    assert positives == 17_136 and 0.0216 < positives / data.n_cases < 0.0218  # 2.17 %
    coverage = data.label_coverage()  # measured: HR .913, MAP .888, Resp .893, Temp .330
    assert 0.91 < coverage["HR_next"] < 0.92 and 0.88 < coverage["MAP_next"] < 0.89
    assert 0.89 < coverage["Resp_next"] < 0.90 and 0.32 < coverage["Temp_next"] < 0.34
    hours = frame.groupby("patient_id").size().to_numpy()
    assert (
        physionet_hourly_windows(frame, stride=3).n_cases
        == int(np.ceil(hours / 3).sum())
        == 270_132
    )
    parts = split_by_group(data)
    septic = [len(set(p.groups[p.targets["sepsis"] == 1])) for p in parts.values()]
    assert sum(septic) == 1_790 and septic == [1_074, 358, 358]


@pytest.fixture(scope="module")
def etth1(real_data_dir) -> pd.DataFrame:
    return load_ett("ETTh1", root=real_data_dir / "ett")


@pytest.mark.real_data
def test_etth1_windows_follow_the_borders(etth1):
    lookback, horizons = 96, (24, 48)
    splits = split_ett(etth1, "ETTh1", lookback=lookback)
    windows = ett_joint_windows(splits, lookback=lookback, horizons=horizons)
    # train rows [0, 8640): 8640 - 96 - 48 + 1; val/test: 2880 rows + 96 prepended - 96 - 48 + 1
    assert [windows[k].n_cases for k in ("train", "val", "test")] == [8497, 2833, 2833]
    assert windows["test"].X.shape == (2833, 7, 96)
    assert len(windows["test"].tasks) == 14 and windows["test"].tasks[:2] == ("OT@24", "OT@48")
    scaled = splits.scaler.transform(etth1.to_numpy())
    test = windows["test"]
    np.testing.assert_array_equal(test.X[0], scaled[11520 - 96 : 11520].T.astype(np.float32))
    ot = ETT_COLUMNS.index("OT")
    np.testing.assert_allclose(test.targets["OT@24"][0], scaled[11520:11544, ot], rtol=1e-12)
    np.testing.assert_allclose(
        test.targets["HUFL@48"][-1], scaled[14400 - 48 : 14400, 0], rtol=1e-12
    )
    k = 1000
    np.testing.assert_allclose(
        test.targets["LULL@48"][k], scaled[11520 + k : 11568 + k, 5], rtol=1e-12
    )
    val = windows["val"]
    np.testing.assert_allclose(val.targets["OT@24"][0], scaled[8640:8664, ot], rtol=1e-12)
    np.testing.assert_allclose(
        unscale_target(val, "OT@24", val.targets["OT@24"][0]),
        etth1["OT"].to_numpy()[8640:8664],
        rtol=1e-9,
    )
    assert (
        ett_joint_windows(splits, lookback=lookback, stride=24)["test"].n_cases
        == (2880 - 24) // 24 + 1
    )
    table = describe_joint(windows)
    assert (table["coverage"] == 1.0).all() and len(table) == 3 * 14
