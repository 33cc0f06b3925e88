"""tsmtl.experiments.trep_classification: TimeDim pooling, the SVM protocol, scaling, published
numbers, the missing-data and heatmap helpers (the pipelines' tests run the rest end to end)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from tsmtl.data.types import TimeSeriesData
from tsmtl.evaluation.svm import C_GRID, fit_svm, too_small_for_search
from tsmtl.experiments.trep_classification import (
    SUPERVISED,
    TREP,
    TS2VEC,
    EncoderMethod,
    classification_markdown,
    encoder_inputs,
    encoder_methods,
    evaluate_encoder,
    gather_datasets,
    heatmap_series,
    latent_heatmap,
    longest_gap,
    missing_data_experiment,
    published_accuracy,
    summarise_accuracy,
    summarise_missing,
    timedim_features,
)
from tsmtl.training.trep import TRep, TRepConfig

TINY_TREP = {"repr_dims": 6, "hidden_dims": 4, "depth": 1, "time_embedding": "mlp", "time_embedding_dims": 4, "iterations": 2, "n_pairs": 16, "batch_size": 8}
TINY_TS2VEC = {"repr_dims": 6, "hidden_dims": 4, "depth": 1, "iterations": 2, "batch_size": 8}


def _two_class_series(n_per_class: int, length: int = 40, channels: int = 2, seed: int = 0) -> TimeSeriesData:
    """Slow sines (class 0) and fast sines (class 1) with noise: (n, C, T)."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    rows, labels = [], []
    for label, frequency in ((0, 0.05), (1, 0.3)):
        for _ in range(n_per_class):
            phase = rng.uniform(0, 2 * np.pi)
            rows.append(np.stack([np.sin(2 * np.pi * frequency * t + phase + c) for c in range(channels)]) + 0.1 * rng.normal(size=(channels, length)))
            labels.append(label)
    X = np.asarray(rows)
    return TimeSeriesData(X=X, y=np.asarray(labels), lengths=np.full(len(X), length), name="sines")


# -- TimeDim ---------------------------------------------------------------------------------------
def test_timedim_pools_windows_of_floor_t_over_w_and_flattens_window_by_window():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 23, 4))
    features = timedim_features(z, n_windows=10)  # k = 23 // 10 = 2 -> 11 windows, step 22 dropped
    assert features.shape == (3, 11 * 4)
    expected = np.stack([[z[i, 2 * w : 2 * w + 2].max(axis=0) for w in range(11)] for i in range(3)]).reshape(3, -1)
    np.testing.assert_allclose(features, expected)
    # the same as torch's max_pool1d with kernel = stride = k
    pooled = F.max_pool1d(torch.from_numpy(z).transpose(1, 2), kernel_size=2, stride=2).transpose(1, 2)
    np.testing.assert_allclose(features, pooled.reshape(3, -1).numpy())


def test_timedim_of_a_short_series_keeps_every_step():
    z = np.arange(2 * 7 * 3, dtype=float).reshape(2, 7, 3)
    np.testing.assert_array_equal(timedim_features(z, n_windows=10), z.reshape(2, 21))  # T < W: k = 1


def test_timedim_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"expects \(N, T, F\)"):
        timedim_features(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="n_windows must be >= 1"):
        timedim_features(np.zeros((1, 4, 2)), n_windows=0)


# -- the SVM protocol ------------------------------------------------------------------------------
def test_search_is_skipped_as_in_ts2vec_and_trep_and_for_a_class_under_five():
    assert too_small_for_search(np.repeat(np.arange(7), 7))  # 49 < 50
    assert not too_small_for_search(np.repeat(np.arange(10), 5))  # 50 series, 5 per class
    assert too_small_for_search(np.r_[np.repeat(np.arange(13), 4), np.arange(8)])  # 60 // 13 = 4
    assert too_small_for_search(np.r_[np.zeros(56), np.ones(4)])  # a class of 4 cannot be in 5 folds
    assert not too_small_for_search(np.r_[np.zeros(56), np.ones(4)], cv=4)


def test_svm_picks_c_by_five_fold_grid_search_as_sklearn_does():
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 30)
    features = rng.normal(size=(90, 5)) + labels[:, None] * 0.8
    fit = fit_svm(features, labels)
    reference = GridSearchCV(SVC(kernel="rbf", gamma="scale"), {"C": list(C_GRID)}, cv=5).fit(features, labels)
    assert fit.searched and fit.C == reference.best_params_["C"]
    assert fit.cv_score == pytest.approx(reference.best_score_)
    np.testing.assert_array_equal(fit.estimator.predict(features), reference.predict(features))
    assert C_GRID == pytest.approx([1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4])


def test_svm_without_enough_series_is_a_plain_fit_with_the_fallback_c():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 10)
    features = rng.normal(size=(20, 3)) + labels[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fold warning: no search at all
        fit = fit_svm(features, labels, fallback_c=3.0)
    assert not fit.searched and fit.C == 3.0 and fit.estimator.C == 3.0 and np.isnan(fit.cv_score)


def test_svm_refuses_bad_input():
    with pytest.raises(ValueError, match="at least two classes"):
        fit_svm(np.zeros((60, 2)), np.zeros(60))
    with pytest.raises(ValueError, match=r"features \(N, D\) and N labels"):
        fit_svm(np.zeros((60, 2)), np.zeros(59))


# -- data ------------------------------------------------------------------------------------------
def test_encoder_inputs_scale_both_splits_with_the_training_statistics_and_pad_to_one_length():
    train = TimeSeriesData(X=np.array([[[1.0, 2.0, 3.0]], [[3.0, 4.0, 5.0]]]), y=np.array([0, 1]), lengths=np.array([3, 3]), name="toy")
    test = TimeSeriesData(X=np.array([[[3.0, np.nan, 9.0, 1.0]]]), y=np.array([1]), lengths=np.array([4]), name="toy")
    split = encoder_inputs({"train": train, "test": test})
    mean, std = 3.0, np.sqrt(np.mean((np.array([1, 2, 3, 3, 4, 5]) - 3.0) ** 2))  # TRAIN's, over all its values
    assert split.X_train.shape == (2, 4, 1) and split.X_test.shape == (1, 4, 1) and split.X_train.dtype == np.float32
    np.testing.assert_allclose(split.X_train[0, :3, 0], (np.array([1, 2, 3]) - mean) / std, rtol=1e-6)
    assert np.isnan(split.X_train[:, 3]).all()  # padding to TEST's length
    np.testing.assert_allclose(split.X_test[0, [0, 2, 3], 0], (np.array([3, 9, 1]) - mean) / std, rtol=1e-6)
    assert np.isnan(split.X_test[0, 1, 0])  # a missing value stays missing
    with pytest.raises(ValueError, match="official 'train' and 'test'"):
        encoder_inputs({"train": train})


def test_gather_datasets_adds_the_embedded_sets_and_restricts_to_the_selection(caplog):
    toy = {"train": _two_class_series(5), "test": _two_class_series(3, seed=1)}
    datasets, availability = gather_datasets({"Toy": toy}, ["Toy"], ["BasicMotions"])
    assert list(datasets) == ["Toy", "BasicMotions"]
    assert datasets["BasicMotions"]["source"] == "aeon" and datasets["BasicMotions"]["parts"]["train"].n_cases == 40
    assert availability.set_index("dataset").loc["Toy", ["n_train", "n_test", "n_channels", "n_steps", "n_classes"]].tolist() == [10, 6, 2, 40, 2]
    chosen, availability = gather_datasets({"Toy": toy}, ["Toy"], ["BasicMotions"], ["Toy", "Nowhere"])
    assert list(chosen) == ["Toy"] and availability.set_index("dataset")["present"].to_dict() == {"Toy": True, "Nowhere": False}
    assert "Nowhere" in caplog.text
    with pytest.raises(FileNotFoundError, match="none of"):
        gather_datasets({}, [], [], ["Nowhere"])
    with pytest.raises(ValueError, match="not shipped with aeon"):
        gather_datasets({}, [], ["NATOPS"])


def test_methods_and_protocols_from_the_settings():
    methods = encoder_methods({"trep": {"repr_dims": 8}, "methods": ["trep", "ts2vec"]})
    assert [(m.name, m.kind, m.protocol) for m in methods] == [(TREP, "trep", "timedim"), (TS2VEC, "ts2vec", "instance")]
    assert methods[0].params == {"repr_dims": 8}
    assert [m.protocol for m in encoder_methods({"protocols": {"ts2vec": "timedim"}})] == ["timedim", "timedim"]
    with pytest.raises(ValueError, match="unknown methods"):
        encoder_methods({"methods": ["trep", "rocket"]})
    with pytest.raises(ValueError, match="unknown protocol"):
        encoder_methods({"protocols": {"trep": "mean"}})


# -- an encoder end to end on separable data ---------------------------------------------------------
def test_evaluate_encoder_on_separable_series():
    parts = {"train": _two_class_series(30, seed=0), "test": _two_class_series(10, seed=1)}
    split = encoder_inputs(parts)
    row, model = evaluate_encoder(EncoderMethod(TREP, "trep", TINY_TREP, "timedim"), split, seed=0, device="cpu")
    assert row["feature_dims"] == 10 * 6  # T = 40, k = 4, 10 windows of 6 dimensions
    assert row["svm_searched"] and row["svm_C"] in C_GRID and row["iterations"] == 2
    assert row["accuracy"] >= 0.9  # slow against fast sines
    row, _ = evaluate_encoder(EncoderMethod(TS2VEC, "ts2vec", TINY_TS2VEC, "instance"), split, seed=0, device="cpu")
    assert row["feature_dims"] == 6
    assert model.encode(split.X_test[:2]).shape == (2, 40, 6)


def test_missing_data_runs_remove_the_rate_of_steps_in_both_splits():
    parts = {"train": _two_class_series(30, seed=0), "test": _two_class_series(10, seed=1)}
    options = {"rates": [0.0, 0.5], "seeds": [0], "methods": ["trep"], "trep": TINY_TREP}
    results = missing_data_experiment(parts, options, device="cpu")
    assert results[["rate", "method"]].values.tolist() == [[0.0, TREP], [0.5, TREP]]
    assert results["removed_train"].tolist() == [0.0, int(0.5 * 60 * 40) / (60 * 40)]
    assert results["removed_test"].tolist() == [0.0, 0.5]
    assert results["accuracy"].between(0, 1).all()


# -- tables ----------------------------------------------------------------------------------------
def test_published_numbers_are_the_appendix_table():
    pairs = {"ArticularyWordRecognition": (0.968, 0.974), "AtrialFibrillation": (0.354, 0.287), "BasicMotions": (1.0, 1.0), "JapaneseVowels": (0.962, 0.970), "NATOPS": (0.804, 0.897)}
    for dataset, (trep, ts2vec) in pairs.items():
        assert (published_accuracy(dataset, TREP), published_accuracy(dataset, TS2VEC)) == pytest.approx((trep, ts2vec))
    assert np.isnan(published_accuracy("NATOPS", SUPERVISED)) and np.isnan(published_accuracy("GunPoint", TREP))


def test_summary_and_markdown_show_mean_std_and_the_paper():
    results = pd.DataFrame(
        {
            "dataset": ["NATOPS"] * 4 + ["Toy"] * 2,
            "method": [TREP, TREP, TS2VEC, TS2VEC, TREP, TS2VEC],
            "protocol": ["timedim", "timedim", "instance", "instance", "timedim", "instance"],
            "seed": [0, 1, 0, 1, 0, 0],
            "accuracy": [0.80, 0.90, 0.70, 0.70, 0.5, 0.25],
        }
    )
    summary = summarise_accuracy(results).set_index(["dataset", "method"])
    assert summary.loc[("NATOPS", TREP), "mean"] == pytest.approx(0.85)
    assert summary.loc[("NATOPS", TREP), "std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert summary.loc[("NATOPS", TREP), "published"] == 0.804 and np.isnan(summary.loc[("Toy", TREP), "published"])
    markdown = classification_markdown(summary.reset_index(), header_lines=["# title"])
    assert "| NATOPS |  | 0.850 ± 0.071 [0.804] | 0.700 ± 0.000 [0.897] |" in markdown
    assert "| Toy |  | 0.500 | 0.250 |" in markdown
    # the paper's average only where it has every set of the row
    assert "| **Average (2 sets)** | | 0.675 | 0.475 |" in markdown


def test_missing_summary_matches_the_published_rates():
    results = pd.DataFrame({"dataset": "AWR", "rate": [0.9, 0.9, 0.0], "method": [TREP, TS2VEC, TS2VEC], "protocol": ["timedim", "instance", "instance"], "seed": 0, "accuracy": [0.8, 0.7, 0.95]})
    summary = summarise_missing(results)
    assert summary["rate"].tolist() == [0.0, 0.9, 0.9]  # sorted by rate
    published = summary.set_index(["rate", "method"])["published"]
    assert published[(0.9, TREP)] == 0.865 and published[(0.9, TS2VEC)] == 0.827 and np.isnan(published[(0.0, TS2VEC)])


# -- the heatmap -------------------------------------------------------------------------------------
def test_longest_gap_ignores_trailing_padding():
    x = np.array([0, np.nan, np.nan, 1, np.nan, np.nan, np.nan, 2, np.nan, np.nan, np.nan, np.nan])[:, None]
    assert longest_gap(x) == (4, 3)
    assert longest_gap(np.ones((5, 2))) == (0, 0)


def test_heatmap_series_prefers_the_paper_gap_then_the_longest_then_masks_one():
    X = np.ones((3, 40, 1), dtype=np.float32)
    X[1, 5:9] = np.nan
    X[2, 10:16] = np.nan
    assert heatmap_series(X, gap_length=4)[0] == 1
    index, _, gap, masked = heatmap_series(X, gap_length=25)
    assert (index, gap, masked) == (2, (10, 6), False)
    index, series, gap, masked = heatmap_series(np.ones((2, 40, 1)), gap_length=10)
    assert (index, gap, masked) == (0, (15, 10), True) and np.isnan(series[15:25]).all() and not np.isnan(series[:15]).any()


def test_latent_heatmap_keeps_the_most_varying_dimensions_in_order():
    x = np.random.default_rng(0).normal(size=(8, 30, 2)).astype(np.float32)
    model = TRep(TRepConfig(repr_dims=12, hidden_dims=4, depth=1, time_embedding="mlp", time_embedding_dims=4, iterations=1, n_pairs=8), device="cpu").fit(x)
    series = x[0].copy()
    series[10:15] = np.nan
    heat, dims = latent_heatmap(model, series, n_dims=5)
    steps = model.encode(series[None])[0]
    assert heat.shape == (5, 30)
    np.testing.assert_array_equal(dims, np.argsort(steps.var(axis=0))[::-1][:5])
    np.testing.assert_allclose(heat, steps[:, dims].T)
