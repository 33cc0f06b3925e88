"""tsmtl.experiments.trep_forecasting: targets, raw windows, ridge selection, time indices, padding, report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsmtl.experiments import trep_forecasting as tf
from tsmtl.training.trep import TRep, TRepConfig


def _series(values: np.ndarray, train: int, validation: int, test: int, dataset: str = "ETTh1", setting: str = "multivariate") -> tf.ForecastingSeries:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    c = values.shape[1]
    return tf.ForecastingSeries(
        dataset, setting, values, tuple(f"c{i}" for i in range(c)), (0, train), (train, train + validation),
        (train + validation, train + validation + test), np.zeros(c), np.ones(c),
    )  # fmt: skip


def _tiny_trep(n_channels: int = 2, depth: int = 2, seed: int = 0) -> TRep:
    x = np.random.default_rng(seed).normal(size=(4, 40, n_channels))
    config = TRepConfig(repr_dims=6, hidden_dims=4, depth=depth, time_embedding_dims=4, batch_size=4, iterations=1, n_pairs=10, head_hidden=8)
    return TRep(config, device="cpu", seed=seed).fit(x)


# ------------------------------------------------------------------------------ targets, windows
def test_targets_are_the_next_h_values_time_major():
    t = np.arange(10.0)
    values = np.stack([t, 100 + t], axis=1)
    origins, targets = tf.forecasting_targets(values, (0, 10), horizon=3)
    assert origins.tolist() == [0, 1, 2, 3, 4, 5, 6]  # t + 3 <= 9: the last target step stays in the split
    assert targets.shape == (7, 6)
    assert targets[0].tolist() == [1, 101, 2, 102, 3, 103]
    assert targets[-1].tolist() == [7, 107, 8, 108, 9, 109]
    origins, targets = tf.forecasting_targets(values, (4, 10), horizon=2, drop=1)
    assert origins.tolist() == [5, 6, 7]
    assert targets[0].tolist() == [6, 106, 7, 107]


def test_targets_refuse_a_split_too_short_for_the_horizon():
    with pytest.raises(ValueError, match="no forecast origin for horizon 10"):
        tf.forecasting_targets(np.zeros((20, 1)), (0, 10), horizon=10)
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        tf.forecasting_targets(np.zeros((20, 1)), (0, 10), horizon=0)


def test_lagged_windows_are_the_last_l_values_up_to_the_origin():
    t = np.arange(10.0)
    values = np.stack([t, 100 + t], axis=1)
    windows = tf.lagged_windows(values, np.array([2, 4, 9]), lookback=3)
    assert windows.shape == (3, 6)
    assert windows[1].tolist() == [2, 102, 3, 103, 4, 104]
    assert windows[2].tolist() == [7, 107, 8, 108, 9, 109]
    with pytest.raises(ValueError, match="fewer than lookback=3"):
        tf.lagged_windows(values, np.array([1, 5]), lookback=3)


# ------------------------------------------------------------------------------------- ridge
def test_ridge_alpha_is_the_validation_minimum_of_rmse_plus_mae():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y = x @ rng.normal(size=(5, 3)) + rng.normal(scale=2.0, size=(300, 3))
    alphas = [0.1, 10.0, 1000.0, 1e5]
    fit = tf.fit_ridge_on_validation(x[:200], y[:200], x[200:], y[200:], alphas)
    expected = {}
    for alpha in alphas:  # an independent recomputation of TS2Vec's criterion
        pred = Ridge(alpha=alpha).fit(x[:200], y[:200]).predict(x[200:])
        expected[alpha] = np.sqrt(np.mean((pred - y[200:]) ** 2)) + np.mean(np.abs(pred - y[200:]))
    assert fit.validation_scores == pytest.approx(expected)
    assert fit.alpha == min(expected, key=expected.get)
    refit = Ridge(alpha=fit.alpha).fit(x[:200], y[:200])  # TS2Vec refits on the training split only
    np.testing.assert_allclose(fit.model.coef_, refit.coef_)
    np.testing.assert_allclose(fit.model.intercept_, refit.intercept_)


def test_ridge_prefers_little_shrinkage_for_an_exact_relation_and_much_for_pure_noise():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4))
    exact = tf.fit_ridge_on_validation(x[:150], x[:150] @ [1.0, -2.0, 0.5, 3.0], x[150:], x[150:] @ [1.0, -2.0, 0.5, 3.0], [0.1, 1000.0])
    assert exact.alpha == 0.1
    noise = rng.normal(size=200)
    shrunk = tf.fit_ridge_on_validation(x[:150], noise[:150], x[150:], noise[150:], [0.1, 1e6])
    assert shrunk.alpha == 1e6


def test_linear_baseline_forecasts_a_sinusoid_exactly():
    # x_{t+1} = 2 cos(w) x_t - x_{t-1}: two lags determine every future value of a sinusoid
    t = np.arange(1200)
    series = _series(np.sin(0.3 * t), 700, 250, 250)
    (record,) = tf.evaluate_features(None, series, [5], alphas=[1e-6, 1.0], train_drop=0, lookback=2)
    assert record["alpha"] == 1e-6
    assert record["mse"] < 1e-8 and record["mae"] < 1e-4
    assert record["n_features"] == 2 and record["n_test"] == 250 - 5 and record["n_train"] == 700 - 5 - 1


def test_evaluate_features_wants_features_or_a_lookback():
    series = _series(np.zeros(100), 60, 20, 20)
    with pytest.raises(ValueError, match="either features or a lookback"):
        tf.evaluate_features(None, series, [2])
    with pytest.raises(ValueError, match="3 feature rows for a series of 100 steps"):
        tf.evaluate_features(np.zeros((3, 2)), series, [2])


# ------------------------------------------------------------------------------ time indices
def test_closest_train_segment_matches_a_brute_force_search():
    rng = np.random.default_rng(2)
    train, block = rng.normal(size=(300, 3)), rng.normal(size=(40, 3))
    brute = [((train[s : s + 40] - block) ** 2).sum() for s in range(300 - 40 + 1)]
    assert tf.closest_train_segment(train, block) == int(np.argmin(brute))


def test_closest_train_segment_finds_a_planted_copy_and_checks_shapes():
    rng = np.random.default_rng(3)
    train = rng.normal(size=(500, 2))
    assert tf.closest_train_segment(train, train[123:223] + 1e-3) == 123
    with pytest.raises(ValueError, match="longer than the training series"):
        tf.closest_train_segment(train[:10], train)
    with pytest.raises(ValueError, match="2 channels, block 1"):
        tf.closest_train_segment(train, train[:5, :1])


def test_series_time_indices_map_validation_and_test_onto_training_positions():
    rng = np.random.default_rng(4)
    train = rng.normal(size=(400, 1))
    values = np.concatenate([train, train[50:150], train[210:310]])  # validation = rows 50..149, test = 210..309
    series = _series(values, 400, 100, 100)
    positions = tf.series_time_indices(series, "positions")
    assert positions.tolist() == list(range(600))
    mapped = tf.series_time_indices(series, "closest_train_segment")
    assert mapped[:400].tolist() == list(range(400))
    assert mapped[400:500].tolist() == list(range(50, 150))
    assert mapped[500:].tolist() == list(range(210, 310))
    with pytest.raises(ValueError, match="'positions' or 'closest_train_segment'"):
        tf.series_time_indices(series, "hours")


# -------------------------------------------------------------------------- representations
def test_padding_of_the_receptive_field_equals_any_longer_padding():
    model = _tiny_trep(depth=2)  # blocks of dilation 1, 2, 4: R = 2 * (1 + 2 + 4) = 14
    assert tf.resolve_padding(model, "receptive_field") == 14
    assert tf.resolve_padding(model, 200) == 200
    x = np.random.default_rng(5).normal(size=(90, 2))
    at_r = tf.encode_series(model, x, padding=14)
    longer = tf.encode_series(model, x, padding=60)
    np.testing.assert_allclose(at_r, longer, rtol=1e-5, atol=1e-5)
    shorter = tf.encode_series(model, x, padding=5)  # cuts part of what a step sees: different
    assert np.abs(shorter[20:] - longer[20:]).max() > 1e-3
    with pytest.raises(ValueError, match="'receptive_field'"):
        tf.resolve_padding(model, "auto")


def test_encoding_in_pieces_equals_one_sliding_encode_of_the_whole_series():
    model = _tiny_trep()
    x = np.random.default_rng(8).normal(size=(75, 2))
    times = np.arange(75, dtype=np.float64) * 3 + 5
    whole = model.encode(x[None], causal=True, sliding_length=1, sliding_padding=9, time_indices=times)[0]
    pieces = tf.encode_series(model, x, padding=9, time_indices=times, chunk_steps=7)  # 11 pieces, the last of 5 steps
    np.testing.assert_allclose(pieces, whole, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"time_indices must have shape \(75,\)"):
        tf.encode_series(model, x, padding=9, time_indices=times[:10])


def test_encode_series_appends_the_time_embedding_of_each_step():
    model = _tiny_trep()
    x = np.random.default_rng(6).normal(size=(30, 2))
    times = np.arange(30, dtype=np.float64) + 7
    features = tf.encode_series(model, x, padding=10, time_indices=times, append_time_embedding=True)
    assert features.shape == (30, 6 + 4)
    np.testing.assert_allclose(features[:, 6:].sum(axis=1), 1.0, rtol=1e-5)  # a distribution per step
    import torch

    with torch.no_grad():
        expected = model.encoder.time_embedding(torch.tensor([7.0, 36.0])).numpy()
    np.testing.assert_allclose(features[[0, -1], 6:], expected, rtol=1e-5)
    np.testing.assert_allclose(features[:, :6], tf.encode_series(model, x, padding=10, time_indices=times), rtol=1e-6)
    ts2vec = TRep(TRepConfig.ts2vec(repr_dims=4, hidden_dims=4, depth=1, iterations=1), device="cpu").fit(x[None])
    with pytest.raises(ValueError, match="TS2Vec has none"):
        tf.encode_series(ts2vec, x, padding=5, append_time_embedding=True)


# --------------------------------------------------------------------------- the grid, report
def test_method_specs_refuse_ambiguous_or_unknown_methods():
    encoders = {"trep": {}}
    with pytest.raises(ValueError, match="either an encoder"):
        tf.method_specs({"M": {"encoder": "trep", "lookback": 3}}, encoders)
    with pytest.raises(ValueError, match="not among the encoders"):
        tf.method_specs({"M": {"encoder": "cpc"}}, encoders)
    with pytest.raises(ValueError, match="unknown settings"):
        tf.method_specs({"M": {"encoder": "trep", "window": 3}}, encoders)
    (spec,) = tf.method_specs({"Linear": {"lookback": {"ETTh": 336, "ETTm": 96}}}, encoders)
    assert spec.lookback_for("ETTm2") == 96 and spec.lookback_for("ETTh1") == 336


def test_fit_encoder_uses_the_training_rows_only_and_refuses_unknown_settings(monkeypatch):
    values = np.random.default_rng(9).normal(size=(120, 2))
    series = _series(values, 60, 30, 30)
    seen = []
    real_fit = tf.fit_representation
    monkeypatch.setattr(tf, "fit_representation", lambda data, *args, **kwargs: seen.append(data) or real_fit(data, *args, **kwargs))
    model = tf.fit_encoder(series, "ts2vec", {"repr_dims": 4, "hidden_dims": 4, "depth": 1, "iterations": 1}, seed=0, device="cpu")
    assert model.in_channels_ == 2 and model.config.time_embedding is None
    assert seen[0].shape == (1, 60, 2)  # one series: the 60 training rows, never validation or test
    np.testing.assert_allclose(seen[0][0], values[:60], rtol=1e-6)
    with pytest.raises(ValueError, match="unknown representation method 'cpc'"):
        tf.fit_encoder(series, "cpc", {}, seed=0, device="cpu")
    with pytest.raises(ValueError, match="unknown T-Rep settings"):
        tf.fit_encoder(series, "trep", {"width": 4}, seed=0, device="cpu")


def test_evaluate_series_runs_every_method_seed_and_horizon():
    t = np.arange(700)
    values = np.stack([np.sin(0.2 * t), np.cos(0.05 * t)], axis=1) + np.random.default_rng(7).normal(scale=0.1, size=(700, 2))
    series = _series(values, 400, 150, 150)
    tiny = {"repr_dims": 4, "hidden_dims": 4, "depth": 1, "batch_size": 2, "iterations": 1, "max_train_length": 100}
    options = {
        "encoders": {"trep": {"method": "trep", "params": {**tiny, "time_embedding_dims": 4, "n_pairs": 10, "head_hidden": 4}}, "ts2vec": {"method": "ts2vec", "params": tiny}},
        "methods": {"T-Rep": {"encoder": "trep", "time_indices": "closest_train_segment", "append_time_embedding": True}, "TS2Vec": {"encoder": "ts2vec"}, "Linear": {"lookback": 8}},
        "seeds": [0, 1], "horizons": [3, 6], "alphas": [1.0, 10.0], "sliding_padding": "receptive_field", "train_drop": 20,
    }  # fmt: skip
    results, encoders = tf.evaluate_series(series, options, device="cpu")
    assert len(results) == 2 * 2 * 2 + 2  # two encoders x seeds x horizons, the linear model once
    assert sorted(encoders) == ["ETTh1/multivariate/trep/seed0", "ETTh1/multivariate/ts2vec/seed0"]
    trep = results[results["method"] == "T-Rep"]
    assert set(trep["n_features"]) == {4 + 4} and set(trep["n_test"]) == {150 - 3, 150 - 6}
    assert set(trep["n_train"]) == {400 - 20 - 3, 400 - 20 - 6}
    assert results["mse"].notna().all() and (results["mse"] > 0).all()
    assert results.loc[results["method"] == "Linear", "seed"].tolist() == [-1, -1]


def test_published_averages_are_the_means_of_the_published_cells():
    for method, (mse_avg, mae_avg) in tf.PAPER_AVERAGE.items():
        cells = np.array([tf.PAPER_MULTIVARIATE[d][h][method] for d in tf.PAPER_MULTIVARIATE for h in tf.PAPER_MULTIVARIATE[d]])
        assert len(cells) == 20
        # rounding of the printed cells: within 0.003 (TS2Vec's MAE recomputes to 0.714, printed 0.712)
        assert cells[:, 0].mean() == pytest.approx(mse_avg, abs=0.003)
        assert cells[:, 1].mean() == pytest.approx(mae_avg, abs=0.003)
    assert tf.PAPER_MULTIVARIATE["ETTh1"][720]["T-Rep"] == (1.061, 0.813)
    assert list(tf.PAPER_MULTIVARIATE["ETTm1"]) == list(tf.default_horizons("ETTm1"))


def test_summary_is_mean_and_std_over_seeds_beside_the_paper():
    rows = []
    for seed, value in [(0, 0.5), (1, 0.7)]:
        for horizon, shift in [(24, 0.0), (48, 0.1)]:
            rows.append({"dataset": "ETTh1", "setting": "multivariate", "method": "T-Rep", "seed": seed, "horizon": horizon, "mse": value + shift, "mae": value / 2,
                         "alpha": 1.0, "fit_seconds": 1.0, "encode_seconds": 2.0})  # fmt: skip
    rows.append({"dataset": "ETTh1", "setting": "univariate", "method": "TS2Vec", "seed": 0, "horizon": 24, "mse": 0.05, "mae": 0.2, "alpha": 1.0, "fit_seconds": 1.0, "encode_seconds": 1.0})
    summary = tf.summarise(pd.DataFrame(rows))
    cell = summary[(summary["method"] == "T-Rep") & (summary["horizon"] == 24)].iloc[0]
    assert cell["mse_mean"] == pytest.approx(0.6) and cell["mse_std"] == pytest.approx(math.sqrt(0.02)) and cell["n_seeds"] == 2
    assert (cell["paper_mse"], cell["paper_mae"]) == (0.511, 0.496)
    average = summary[(summary["dataset"] == "average") & (summary["method"] == "T-Rep")].iloc[0]
    assert average["mse_mean"] == pytest.approx(0.65)  # seeds' means 0.55 and 0.75
    assert average["paper_mse"] == pytest.approx((0.511 + 0.546) / 2)  # the paper over the same cells
    univariate = summary[(summary["setting"] == "univariate") & (summary["horizon"] == 24)].iloc[0]
    assert univariate["paper_mse"] == 0.039 and math.isnan(univariate["paper_mae"])
    markdown = tf.summary_markdown(summary)
    assert "| ETTh1 | 24 | 0.600 ± 0.141 [0.511] | 0.300 ± 0.071 [0.496] |" in markdown
    assert "**Univariate**" in markdown and "**Avg.**" in markdown
    fig = tf.mse_by_horizon_figure(summary)
    assert len(fig.axes) == 2


@pytest.mark.real_data
def test_prepare_series_standardises_with_the_training_months(real_data_dir):
    from tsmtl.data.ett import load_ett

    frame = load_ett("ETTh1", root=real_data_dir / "ett")
    multi = tf.prepare_series(frame, "ETTh1", "multivariate")
    uni = tf.prepare_series(frame, "ETTh1", "univariate")
    assert multi.values.shape == (14400, 7) and uni.values.shape == (14400, 1) and uni.columns == ("OT",)
    assert (multi.train, multi.validation, multi.test) == ((0, 8640), (8640, 11520), (11520, 14400))
    train = multi.values[:8640]
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(train.std(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(uni.values[:, 0], multi.values[:, 6])  # OT alone = OT of the 7
    raw_ot = frame["OT"].to_numpy()[:14400]
    np.testing.assert_allclose(uni.values[:, 0] * uni.scale[0] + uni.mean[0], raw_ot)
    with pytest.raises(ValueError, match="setting must be one of"):
        tf.prepare_series(frame, "ETTh1", "bivariate")
