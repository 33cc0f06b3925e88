"""tsmtl.experiments.trep_anomaly: the streaming protocol's pieces against hand computations, the
Sepsis windows and scores, and the Yahoo status when no licensed copy is registered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsmtl.data.physionet import PAPER_FEATURES
from tsmtl.data.types import TimeSeriesData
from tsmtl.evaluation.svm import fit_svm
from tsmtl.experiments import trep_anomaly as ta
from tsmtl.training.trep import TRep, TRepConfig


# ------------------------------------------------------------------------------------ streaming
def test_point_adjust_credits_a_segment_only_for_an_alarm_within_the_delay():
    labels = np.array([0, 1, 1, 1, 1, 0, 1, 1, 0])
    alarms = np.array([0, 0, 0, 1, 0, 0, 0, 0, 1])
    # segment 1..4: alarm at offset 2 <= delay 2 -> all detected; segment 6..7: none; index 8 a false alarm
    np.testing.assert_array_equal(ta.point_adjust(alarms, labels, delay=2), [0, 1, 1, 1, 1, 0, 0, 0, 1])
    # delay 1 looks at offsets 0 and 1 only: the alarm at offset 2 is too late
    np.testing.assert_array_equal(ta.point_adjust(alarms, labels, delay=1), [0, 0, 0, 0, 0, 0, 0, 0, 1])
    # a segment running to the end of the series
    np.testing.assert_array_equal(ta.point_adjust([0, 0, 1, 0], [0, 1, 1, 1], delay=7), [0, 1, 1, 1])
    with pytest.raises(ValueError, match="differ in shape"):
        ta.point_adjust([0, 1], [0, 1, 1], delay=7)


def test_repeated_alarms_within_the_delay_are_suppressed():
    # i=1 is kept (i < delay); i=3 has the alarm at 0 within 3 steps; i=8 has the kept alarm at 7
    np.testing.assert_array_equal(ta.suppress_repeated_alarms([1, 1, 0, 1, 0, 0, 0, 1, 1], delay=3), [1, 1, 0, 0, 0, 0, 0, 1, 0])


def test_adjusted_score_divides_by_the_mean_of_the_previous_scores():
    scores = np.array([1.0, 2.0, 3.0, 4.0, 1.0])
    adjusted = ta.adjusted_scores(scores, window=2)
    assert np.isnan(adjusted[:2]).all()
    # t=2: previous (1, 2) -> 1.5; t=3: (2, 3) -> 2.5; t=4: (3, 4) -> 3.5
    np.testing.assert_allclose(adjusted[2:], [(3 - 1.5) / 1.5, (4 - 2.5) / 2.5, (1 - 3.5) / 3.5])


def test_labels_go_on_a_regular_grid_with_missing_steps_as_zero():
    np.testing.assert_array_equal(ta.on_regular_grid([30, 0, 10], [1, 1, 0]), [1, 0, 0, 1])
    np.testing.assert_array_equal(ta.on_regular_grid([5], [1]), [1])


def test_threshold_is_mu_plus_beta_sigma_of_the_training_adjusted_scores():
    rng = np.random.default_rng(0)
    n_train, n_test = 200, 100
    series = ta.prepare_streaming_series(rng.normal(size=n_train * 2), np.zeros(n_train * 2, dtype=int), name="noise")
    scores = 1.0 + 0.1 * rng.random(len(series.values))
    scores[len(series.train) + 50] = 5.0  # one spike in the test half
    detection = ta.detect_series(series, scores, score_window=21, skip=22, beta=4.0, delay=7)
    adjusted = ta.adjusted_scores(scores, 21)[: len(series.train)][22:]
    assert detection.threshold == pytest.approx(adjusted.mean() + 4.0 * adjusted.std())
    assert np.flatnonzero(detection.alarms).tolist() == [50]
    with pytest.raises(ValueError, match="scores for"):
        ta.detect_series(series, scores[:-1])
    assert n_test  # the test half is the second half


def test_streaming_f1_pools_the_point_adjusted_alarms_of_every_series():
    def detection(labels, alarms):
        n = len(labels)
        return ta.Detection("s", np.zeros(n), 1.0, np.array(alarms), np.array(labels), np.arange(n))

    first = detection([0, 1, 1, 0, 0], [0, 0, 1, 0, 1])  # segment detected (2 TP), 1 FP
    second = detection([0, 0, 1, 1, 0], [0, 0, 0, 0, 0])  # segment missed (2 FN)
    scores = ta.streaming_scores([first, second], delay=7)
    tp, fp, fn = 2, 1, 2
    assert scores["precision"] == pytest.approx(tp / (tp + fp))
    assert scores["recall"] == pytest.approx(tp / (tp + fn))
    assert scores["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))


def test_preprocessing_differences_a_random_walk_and_keeps_labels_aligned():
    rng = np.random.default_rng(1)
    values = np.cumsum(rng.normal(size=400)) + 50.0
    labels = np.zeros(400, dtype=int)
    labels[300] = 1
    series = ta.prepare_streaming_series(values, labels, np.arange(400) * 3600, name="walk")
    assert series.d == 1
    assert len(series.train) == 400 // 2 - 1 and len(series.train) + len(series.test) == 399
    np.testing.assert_allclose([series.train.mean(), series.train.std()], [0.0, 1.0], atol=1e-12)
    # the difference x_300 - x_299 keeps the label of step 300
    assert series.test_timestamps[np.flatnonzero(series.test_labels)].tolist() == [300 * 3600]
    np.testing.assert_allclose(series.test * series.std + series.mean, np.diff(values)[199:])
    stationary = ta.prepare_streaming_series(rng.normal(size=400), np.zeros(400, dtype=int))
    assert stationary.d == 0 and len(stationary.train) == 200
    with pytest.raises(ValueError, match="one length"):
        ta.prepare_streaming_series(values, labels[:-1])


def test_raw_baseline_finds_large_spikes():
    rng = np.random.default_rng(2)
    values = np.sin(np.arange(600) / 5.0) + 0.05 * rng.normal(size=600)
    labels = np.zeros(600, dtype=int)
    for spike in (400, 520):
        values[spike] += 5.0
        labels[spike] = 1
    series = [ta.prepare_streaming_series(values, labels, name="spiky")]
    scores, detections = ta.evaluate_scores(series, ta.raw_scores(series, 21), {}, delay=7)
    assert scores["f1"] == pytest.approx(1.0) and scores["auprc_points"] > 0.9
    assert detections[0].alarms.sum() == 2


def test_yahoo_absent_is_a_status_not_an_error(tmp_path):
    frame, status = ta.load_registered_yahoo(tmp_path / "yahoo_s5")
    assert frame is None and status.startswith("not registered") and "register_yahoo" in status
    prepared = ta.prepare_streaming_datasets(None, {"datasets": ["yahoo"], "yahoo": {"root": str(tmp_path / "nowhere")}})
    assert prepared["datasets"] == {} and prepared["status"]["Yahoo S5"].startswith("not registered")
    with pytest.raises(ValueError, match="unknown streaming datasets"):
        ta.prepare_streaming_datasets(None, {"datasets": ["kpi"]})


@pytest.fixture(scope="module")
def tiny_encoder():
    rng = np.random.default_rng(0)
    config = TRepConfig(repr_dims=8, hidden_dims=8, depth=2, time_embedding_dims=4, head_hidden=8, n_pairs=16, batch_size=4, iterations=2)
    return TRep(config, device="cpu").fit(rng.normal(size=(4, 80, 1)))


def test_context_beyond_the_receptive_field_changes_no_score(tiny_encoder):
    series = [ta.prepare_streaming_series(np.random.default_rng(3).normal(size=120), np.zeros(120, dtype=int))]
    assert tiny_encoder.context_padding(200) == tiny_encoder.encoder.half_receptive_field == 14
    fast = ta.representation_scores(tiny_encoder, series, sliding_padding=200)[0]
    x = series[0].values[None, :, None]
    full = [tiny_encoder.encode(x, mask=m, causal=True, sliding_length=1, sliding_padding=60)[0] for m in ("mask_last", None)]
    np.testing.assert_allclose(fast, np.abs(full[1] - full[0]).sum(axis=-1), rtol=1e-5, atol=1e-6)
    assert fast.shape == (120,) and (fast > 0).all()  # hiding the last step always moves its representation


# ------------------------------------------------------------------------------------ sepsis
def test_physionet_patient_scores_by_hand():
    assert ta.physionet_patient_scores([0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 1, 1]) == pytest.approx((4 / 6, 4 / 6))
    assert ta.physionet_patient_scores([0, 0, 0], [0, 0, 0]) == (1.0, 1.0)  # nothing to find, nothing raised
    assert ta.physionet_patient_scores([0, 0, 0], [0, 1, 0]) == pytest.approx((2 / 3, 0.0))


def _stays(lengths, hours=8, channels=2):
    rng = np.random.default_rng(0)
    X = np.full((len(lengths), channels, hours), np.nan)
    labels = np.full((len(lengths), hours), np.nan)
    for i, n in enumerate(lengths):
        X[i, :, :n] = rng.normal(size=(channels, n))
        labels[i, :n] = 0
    return X, labels


def test_windows_end_at_every_hour_inside_a_stay():
    X, hourly = _stays([8, 6])
    hourly[0, 6:] = 1
    data = TimeSeriesData(X=X, y=np.array([1, 0]), lengths=np.array([8, 6]), meta={"sepsis_label": hourly})
    windows = ta.sepsis_windows(data, window=6)
    assert windows.patient.tolist() == [0, 0, 0, 1] and windows.end.tolist() == [5, 6, 7, 5]
    assert windows.y.tolist() == [0, 1, 1, 0]
    np.testing.assert_allclose(windows.X[2], X[0, :, 2:8].T)
    assert windows.X.shape == (4, 6, 2)
    # hours 6 and 7 are septic; alarms on the windows ending at 5 and 7 -> hours 5 and 7 flagged
    scores = ta.sepsis_scores(data, windows, np.array([1, 0, 1, 0]))
    assert scores["f1_patient_mean"] == pytest.approx((2 * 1 / (2 * 1 + 1 + 1) + 1.0) / 2)
    assert scores["accuracy_patient_mean"] == pytest.approx((6 / 8 + 1.0) / 2)
    assert scores["f1_windows"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))


def test_subsampling_keeps_every_positive():
    labels = np.zeros(100, dtype=int)
    labels[[3, 50, 97]] = 1
    kept = ta.subsample_windows(labels, 20, seed=0)
    assert len(kept) == 20 and set(np.flatnonzero(labels)) <= set(kept.tolist())
    np.testing.assert_array_equal(kept, ta.subsample_windows(labels, 20, seed=0))
    assert not np.array_equal(kept, ta.subsample_windows(labels, 20, seed=1))
    assert len(ta.subsample_windows(labels, None)) == 100 and len(ta.subsample_windows(labels, 500)) == 100


def test_window_features_and_the_svm():
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(60, 6, 2)).astype(np.float32)
    labels = (windows[:, -1, 0] > 0).astype(int)
    assert ta.window_features(windows).shape == (60, 12)
    np.testing.assert_allclose(ta.window_features(windows, pooling="max"), windows.max(axis=1))
    with pytest.raises(ValueError, match="pooling"):
        ta.window_features(windows, pooling="mean")
    fit = fit_svm(ta.window_features(windows), labels, c_grid=(0.01, 100.0), cv=3, scoring="f1", shuffle_seed=0)
    assert fit.searched and fit.C in (0.01, 100.0) and fit.estimator.predict(ta.window_features(windows)).shape == (60,)
    with pytest.raises(ValueError, match="two classes"):
        fit_svm(ta.window_features(windows), np.zeros(60, dtype=int))


def test_window_features_of_an_encoder_flatten_the_window(tiny_encoder):
    windows = np.random.default_rng(0).normal(size=(5, 6, 1))
    assert ta.window_features(windows, tiny_encoder).shape == (5, 6 * 8)
    assert ta.window_features(windows, tiny_encoder, pooling="max").shape == (5, 8)


def _physionet_frame(n_patients=40, septic_every=5):
    rng = np.random.default_rng(0)
    rows = []
    for p in range(n_patients):
        hours = 10 + p % 50
        septic = p % septic_every == 0
        frame = pd.DataFrame(rng.normal(loc=3.0, scale=2.0, size=(hours, len(PAPER_FEATURES))), columns=list(PAPER_FEATURES))
        frame.loc[: hours // 2, "Lactate"] = np.nan  # measured late: leading values stay missing after forward-fill
        frame["SepsisLabel"] = 0
        if septic:
            frame.loc[hours - 4 :, "SepsisLabel"] = 1
        frame.insert(0, "patient_id", f"p{p:06d}")
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def test_prepare_sepsis_splits_patients_and_scales_with_the_training_part():
    prepared = ta.prepare_sepsis(_physionet_frame(), {"hours": 45, "split": {"fractions": [0.75, 0.25], "seed": 0}})
    train, test = prepared["train"], prepared["test"]
    assert (train.n_cases, test.n_cases) == (30, 10) and (int(train.y.sum()), int(test.y.sum())) == (6, 2)
    assert not set(train.meta["patient_id"]) & set(test.meta["patient_id"])
    inside = np.arange(train.n_timepoints)[None, :] < train.lengths[:, None]
    assert np.isfinite(train.X.transpose(1, 0, 2)[:, inside]).all()  # nothing missing inside a stay
    assert np.isnan(train.X.transpose(1, 0, 2)[:, ~inside]).all()  # the padding after it stays NaN
    hr = train.X[:, 0][inside]
    assert abs(hr.mean()) < 1e-9 and hr.std() == pytest.approx(1.0)
    # hourly labels follow their patients: the septic ones end with 4 septic hours
    for data in (train, test):
        last = data.meta["sepsis_label"][np.arange(data.n_cases), data.lengths - 1]
        np.testing.assert_array_equal(last, data.y)
    smaller = ta.prepare_sepsis(_physionet_frame(), {"n_patients": 20, "split": {"fractions": [0.75, 0.25], "seed": 0}})
    assert smaller["train"].n_cases + smaller["test"].n_cases == 20


def test_summary_puts_the_published_numbers_beside_ours():
    rows = [
        {"task": "sepsis", "dataset": ta.SEPSIS_DATASET, "method": "T-Rep", "seed": s, "metric": "f1_patient_mean", "value": v, "seconds": 1.0}
        for s, v in ((0, 0.6), (1, 0.7))
    ]
    summary = ta.summarise(pd.DataFrame(rows))
    row = summary.iloc[0]
    assert row["mean"] == pytest.approx(0.65) and row["n_seeds"] == 2 and row["paper"] == pytest.approx(0.665)
    markdown = ta.report_markdown(summary, {"Yahoo S5": "not registered"})
    assert "| T-Rep | 0.650 ± 0.071 [0.665] |" in markdown and "not reproducible here" in markdown
