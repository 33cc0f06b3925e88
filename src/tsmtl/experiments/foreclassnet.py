"""ForeClassNet's experiments (Coulson et al., Sections 4-5) as library functions.

ForeClassNet forecasts the next ``H`` points of a series and classifies it from the observed
points and the forecast's Monte Carlo mean and variance. It is a two-task model on the MTL
core: a regression task ``forecast`` (the ``H`` future points, MSE) and a classification task
``class`` (cross-entropy), trained with joint batches and the fixed weighting
``alpha * CE + beta * MSE`` of eq. 7 (:class:`tsmtl.training.weighting.FixedWeighting`; the
paper's alpha = beta = 1; any registered weighting can replace it), plus the concrete-dropout
regularisers (``model.regularisation()``).

Every comparison of the paper is one function here:

* :func:`evaluate_methods` -- Tables 1-4 and 9-11: ForeClassNet on the observed series,
  TEASER on the observed series (an early classifier), InceptionTime / MultiRocket-Hydra /
  HIVE-COTE 2 on the observed and on the full series, and -- for the simulations -- the Bayes
  limit (:mod:`tsmtl.evaluation.oracle`), the best accuracy any classifier can reach;
* :func:`adversarial_tables` -- Tables 5-8: FGSM (epsilon = 0.1) against ForeClassNet's
  cross-entropy or its forecast MSE, then adversarial training.

Data: the landed forecast-then-classify preparation,
``{split: {"observed": TimeSeriesData, "future": (n, C, H)}}``
(:func:`tsmtl.pipelines.common.prepare_forecast_classify`), turned into
:class:`~tsmtl.data.joint.JointTaskData` by :func:`joint_from_forecast_classify`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from tsmtl.config import plain
from tsmtl.data.joint import JointTaskData
from tsmtl.data.preprocessing.splits import merge_splits
from tsmtl.data.types import TimeSeriesData
from tsmtl.evaluation import metrics
from tsmtl.models.sharing import ModelConfig
from tsmtl.tasks import TaskSpec
from tsmtl.training.fit import MethodConfig, MultiTaskFit, TrainingConfig, fit_joint, fit_task_group
from tsmtl.training.loop import predict_batched
from tsmtl.training.multitask import predict_outputs
from tsmtl.training.tensors import to_tensors

log = logging.getLogger(__name__)

FORECAST, CLASS = "forecast", "class"
SPLITS = ("train", "val", "test")
#: Columns of every result table: one row per (table, method, input, test set, seed, metric).
RESULT_COLUMNS = ["table", "method", "input", "test_set", "seed", "metric", "value", "seconds"]
METRICS = ("accuracy", "f1_macro", "f1_weighted")


# -- data -----------------------------------------------------------------------------------------
def class_index(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Class index of every label in the sorted training ``classes`` (unknown labels raise)."""
    index = np.searchsorted(classes, labels)
    if (index >= len(classes)).any() or (classes[np.clip(index, 0, len(classes) - 1)] != labels).any():
        raise ValueError(f"labels {np.setdiff1d(labels, classes)[:5].tolist()} are not among the training classes {classes.tolist()}")
    return index.astype(np.float64)


def joint_from_forecast_classify(prepared: Mapping[str, Mapping[str, Any]], name: str = "") -> tuple[dict[str, JointTaskData], np.ndarray]:
    """The joint-prediction splits of one forecast-then-classify task.

    Parameters
    ----------
    prepared : mapping split -> {"observed": TimeSeriesData (n, C, m), "future": (n, C, H)}

    Returns
    -------
    splits : dict split -> JointTaskData
        ``X`` the observed series; targets ``forecast`` ``(n, C * H)`` (channel-major: the
        ``H`` points of channel 0, then channel 1, ...) and ``class`` (class indices).
    classes : np.ndarray
        The training labels' sorted classes (index -> label).
    """
    missing = [s for s in SPLITS if s not in prepared]
    if missing:
        raise KeyError(f"{name}: the forecast-then-classify data lacks the splits {missing}")
    classes = np.unique(prepared["train"]["observed"].y)
    splits = {}
    for split in SPLITS:
        observed: TimeSeriesData = prepared[split]["observed"]
        future = np.asarray(prepared[split]["future"], dtype=np.float64)
        if future.ndim != 3 or future.shape[:2] != (observed.n_cases, observed.n_channels):
            raise ValueError(f"{name}/{split}: future must be (n_cases, n_channels, horizon), got {future.shape}")
        splits[split] = JointTaskData(
            X=observed.X.astype(np.float32),
            lengths=observed.lengths,
            targets={FORECAST: future.reshape(len(future), -1), CLASS: class_index(observed.y, classes)},
            channels=tuple(f"channel_{c}" for c in range(observed.n_channels)),
            name=name or observed.name,
            meta={"horizon": future.shape[-1]},
        )
    return splits, classes


def full_series(prepared_split: Mapping[str, Any]) -> TimeSeriesData:
    """Observed and future points joined: the "full series" the paper's other classifiers also see."""
    observed: TimeSeriesData = prepared_split["observed"]
    if not observed.equal_length:
        raise ValueError(f"{observed.name}: full series need equal-length observed series")
    X = np.concatenate([observed.X, np.asarray(prepared_split["future"], dtype=np.float64)], axis=2)
    return TimeSeriesData(X=X, y=observed.y, lengths=np.full(observed.n_cases, X.shape[2]), name=observed.name, meta=dict(observed.meta))


def with_values(data: TimeSeriesData, X: np.ndarray) -> TimeSeriesData:
    """``data`` with other (e.g. adversarially perturbed) values of the same shape."""
    if X.shape != data.X.shape:
        raise ValueError(f"{data.name}: values of shape {X.shape} for data of shape {data.X.shape}")
    return TimeSeriesData(X=np.asarray(X, dtype=np.float64), y=data.y, lengths=data.lengths, name=data.name, meta=dict(data.meta))


# -- metrics --------------------------------------------------------------------------------------
def classification_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy, macro F1 and weighted F1 (the paper's Tables; :mod:`tsmtl.evaluation.metrics`)."""
    return {name: getattr(metrics, name)(y_true, y_pred) for name in METRICS}


def _rows(table: str, method: str, inputs: str, test_set: str, seed: int, scores: Mapping[str, float], seconds: float) -> list[dict[str, Any]]:
    return [
        {"table": table, "method": method, "input": inputs, "test_set": test_set, "seed": seed, "metric": m, "value": v, "seconds": seconds}
        for m, v in scores.items()
    ]


# -- ForeClassNet ---------------------------------------------------------------------------------
def foreclassnet_specs(splits: Mapping[str, JointTaskData], n_classes: int) -> dict[str, TaskSpec]:
    """The two tasks: the ``C * H`` future points (MSE) and the class (cross-entropy)."""
    horizon_outputs = int(np.asarray(splits["train"].targets[FORECAST]).shape[1])
    return {
        FORECAST: TaskSpec(FORECAST, "regression", horizon_outputs, loss="mse", metrics=("mse", "mae")),
        CLASS: TaskSpec(CLASS, "classification", n_classes, metrics=("accuracy", "f1")),
    }


def foreclassnet_method(n_observed: int, model: Mapping[str, Any] | None = None, weighting: str = "fixed", weighting_params: Mapping[str, Any] | None = None) -> MethodConfig:
    """ForeClassNet as a :class:`MethodConfig`: the ``foreclassnet`` architecture, eq. 7's weights.

    ``model``: ForeClassNet's hyperparameters (see :class:`tsmtl.models.foreclassnet.ForeClassNet`);
    ``weighting_params`` default to the paper's ``alpha = beta = 1``. An experiment's
    ``foreclassnet`` options go through :func:`_method_from`.
    """
    params = {"n_observed": int(n_observed), **plain(dict(model or {}))}
    if weighting == "fixed" and not weighting_params:
        weighting_params = {"weights": {CLASS: 1.0, FORECAST: 1.0}}
    return MethodConfig(
        model=ModelConfig(backbone="none", backbone_params={}, sharing="foreclassnet", sharing_params=params),
        weighting=weighting,
        weighting_params=plain(dict(weighting_params or {})),
    )


def _method_from(settings: Mapping[str, Any], n_observed: int) -> MethodConfig:
    """:func:`foreclassnet_method` from an experiment's ``foreclassnet`` options."""
    return foreclassnet_method(n_observed, settings.get("model"), settings.get("weighting", "fixed"), settings.get("weighting_params"))


def fit_foreclassnet(
    splits: Mapping[str, JointTaskData],
    n_classes: int,
    method: MethodConfig,
    training: TrainingConfig,
    *,
    seed: int,
    device: str,
    checkpoint_dir: str | Path | None,
    resume: bool = True,
) -> MultiTaskFit:
    """Train ForeClassNet (best epoch by the mean validation task loss: eq. 7 with alpha = beta)."""
    return fit_joint(
        splits, foreclassnet_specs(splits, n_classes), method, training, device=device, seed=seed,
        checkpoint_dir=checkpoint_dir, resume=resume,
    )  # fmt: skip


@torch.no_grad()
def foreclassnet_predict(model: torch.nn.Module, X: np.ndarray, n_samples: int, batch_size: int = 512) -> dict[str, np.ndarray]:
    """Monte Carlo predictions of a trained ForeClassNet on ``X`` ``(n, C, m)``.

    Returns ``{"class_probabilities": (n, K), "forecast_mean": (n, C*H), "forecast_variance":
    (n, C*H)}`` (:meth:`ForeClassNet.predict` over ``n_samples`` stochastic passes).
    """
    x = torch.from_numpy(np.nan_to_num(np.asarray(X, dtype=np.float32)))

    def call(m, xb):
        prediction = m.predict(xb, None, n_samples=n_samples)
        return {"class_probabilities": prediction.class_probabilities, "forecast_mean": prediction.forecast_mean, "forecast_variance": prediction.forecast_variance}

    return predict_batched(model, call, len(x), lambda index: (x[index],), batch_size)


def class_loss(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of ForeClassNet's class head (the FGSM objective of Sec. 4.5)."""
    return F.cross_entropy(model(x, None, tasks=[CLASS])[CLASS], target.long())


def forecast_loss(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE of ForeClassNet's forecast (the FGSM objective of Sec. 4.6)."""
    return F.mse_loss(model(x, None, tasks=[FORECAST])[FORECAST], target.float())


FGSM_LOSSES = {"cross_entropy": (class_loss, CLASS), "mse": (forecast_loss, FORECAST)}


#: Display names of the methods (the paper's row labels, plus the Bayes limit and a majority vote).
METHOD_LABELS = {
    "foreclassnet": "ForeClassNet",
    "teaser": "TEASER",
    "inception": "Inception",
    "mr_hydra": "MR-Hydra",
    "hc2": "HC2",
    "oracle": "Bayes limit (oracle)",
    "majority": "Majority class",
}
#: Methods that see only the observed series (TEASER is an early classifier; ForeClassNet
#: forecasts the rest); the others are also trained on the full series.
OBSERVED_ONLY = ("foreclassnet", "teaser")


def _split_for(prepared: Mapping[str, Mapping[str, Any]], inputs: str) -> dict[str, TimeSeriesData]:
    if inputs == "observed":
        return {split: prepared[split]["observed"] for split in SPLITS}
    if inputs == "full":
        return {split: full_series(prepared[split]) for split in SPLITS}
    raise ValueError(f"inputs must be 'observed' or 'full', got {inputs!r}")


def fit_inception(splits: Mapping[str, TimeSeriesData], options: Mapping[str, Any], *, seed: int, device: str, checkpoint_dir: str | Path | None, resume: bool) -> MultiTaskFit:
    """InceptionTime (the ``inception`` backbone) trained as a single-task classifier, best epoch on val."""
    method = MethodConfig.from_params({"backbone": "inception", "backbone_params": dict(options.get("backbone_params") or {})})
    training = TrainingConfig.from_params(options.get("training"))
    task = splits["train"].name or "task"
    return fit_task_group({task: dict(splits)}, method, training, device=device, seed=seed, checkpoint_dir=checkpoint_dir, resume=resume)


def inception_predict(fit: MultiTaskFit, data: TimeSeriesData, batch_size: int = 512) -> np.ndarray:
    """Predicted labels (in the training label space) of a fitted InceptionTime on ``data``."""
    (task,) = fit.tasks
    classes = np.asarray(fit.tasks[task].classes)
    outputs = predict_outputs(fit.model, to_tensors(data), [task], batch_size)[task]
    return classes[outputs.argmax(axis=1)]


def baseline_predict(name: str, train: TimeSeriesData, test: TimeSeriesData, params: Mapping[str, Any], seed: int) -> np.ndarray:
    """aeon's TEASER / MR-Hydra / HC2 (:func:`tsmtl.models.baselines.fit_predict_baseline`)."""
    from tsmtl.models.baselines import fit_predict_baseline

    return np.asarray(fit_predict_baseline(name, train, test, random_state=seed, **dict(params or {})))


def baseline_predict_sets(name: str, train: TimeSeriesData, tests: Mapping[str, TimeSeriesData], params: Mapping[str, Any], seed: int) -> dict[str, np.ndarray]:
    """One fit of a baseline, predictions for several test sets (stacked into one prediction call)."""
    names = list(tests)
    stacked = merge_splits(*[tests[n] for n in names])
    predictions = baseline_predict(name, train, stacked, params, seed)
    bounds = np.cumsum([0] + [tests[n].n_cases for n in names])
    return {n: predictions[bounds[i] : bounds[i + 1]] for i, n in enumerate(names)}


def _baseline_seeds(options: Mapping[str, Any], seeds: list[int]) -> set[int]:
    """The seeds the aeon baselines run on: ``options["baseline_seeds"]`` (default every seed).

    A CPU profile can give the slow aeon estimators (HC2, TEASER and MR-Hydra on thousands of
    series) fewer seeds than the networks; the tables' ``n_seeds`` column shows it.
    """
    chosen = [int(s) for s in options.get("baseline_seeds") or seeds]
    stray = sorted(set(chosen) - set(seeds))
    if stray:
        raise ValueError(f"baseline_seeds {stray} are not among seeds {seeds}")
    return set(chosen)


def evaluate_methods(
    table: str,
    prepared: Mapping[str, Mapping[str, Any]],
    options: Mapping[str, Any],
    *,
    device: str,
    checkpoint_dir: str | Path | None,
    oracle: Any = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One comparison table: every method of ``options["methods"]`` over ``options["seeds"]``.

    ForeClassNet trains on the training split with the validation split for the best epoch and
    is scored with ``mc_samples`` Monte Carlo passes; InceptionTime likewise (single-task); the
    aeon methods, which use no validation data, train on training + validation. Every method is
    scored on the same test split; the aeon methods run on ``options["baseline_seeds"]`` (default
    every seed). ``options["inputs"]`` (default both) limits the inputs the
    other methods are trained on ("observed", "full"). ``oracle``: a callable ``(X (n, 1, length)) -> predictions``
    of the Bayes classifier (or None), scored on the observed and on the full test series.

    Returns
    -------
    results : DataFrame with :data:`RESULT_COLUMNS` (``test_set`` is ``"test"``)
    extras : dict
        ``{"filter_lengths": {layer: probabilities}}`` of the first seed's ForeClassNet, and
        ``{"foreclassnet": first seed's fit}`` (for saliency plots and adversarial runs).
    """
    methods = list(options.get("methods") or METHOD_LABELS)
    unknown = [m for m in methods if m not in METHOD_LABELS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {list(METHOD_LABELS)}")
    seeds = [int(s) for s in options.get("seeds", [0])]
    baseline_seeds = _baseline_seeds(options, seeds)
    resume = bool(options.get("resume", True))
    rows: list[dict[str, Any]] = []
    extras: dict[str, Any] = {}
    test_y = prepared["test"]["observed"].y
    input_kinds = list(options.get("inputs") or ("observed", "full"))
    for inputs in input_kinds:
        if oracle is not None and "oracle" in methods:
            started = time.perf_counter()
            X = prepared["test"]["observed"].X if inputs == "observed" else full_series(prepared["test"]).X
            rows += _rows(table, METHOD_LABELS["oracle"], inputs, "test", seeds[0], classification_scores(test_y, oracle(X)), time.perf_counter() - started)
    if "majority" in methods:
        train_y = merge_splits(prepared["train"]["observed"], prepared["val"]["observed"]).y
        values, counts = np.unique(train_y, return_counts=True)
        rows += _rows(table, METHOD_LABELS["majority"], "observed", "test", seeds[0], classification_scores(test_y, np.full(len(test_y), values[counts.argmax()])), 0.0)
    joint, classes = joint_from_forecast_classify(prepared, name=f"table{table}")
    for seed in seeds:
        folder = None if checkpoint_dir is None else Path(checkpoint_dir) / f"table_{table}"
        if "foreclassnet" in methods:
            started = time.perf_counter()
            settings = options.get("foreclassnet") or {}
            fit = fit_foreclassnet(
                joint, len(classes), _method_from(settings, joint["train"].n_timepoints), TrainingConfig.from_params(settings.get("training")), seed=seed, device=device,
                checkpoint_dir=None if folder is None else folder / "foreclassnet" / f"seed_{seed}", resume=resume,
            )  # fmt: skip
            predicted = foreclassnet_predict(fit.model, joint["test"].X, int(settings.get("mc_samples", 30)))
            labels = classes[predicted["class_probabilities"].argmax(axis=1)]
            scores = classification_scores(test_y, labels)
            scores["forecast_mse"] = float(np.mean((predicted["forecast_mean"] - joint["test"].targets[FORECAST]) ** 2))
            rows += _rows(table, METHOD_LABELS["foreclassnet"], "observed", "test", seed, scores, time.perf_counter() - started)
            if seed == seeds[0]:
                extras["foreclassnet"] = fit
                extras["classes"] = classes
                extras["filter_lengths"] = fit.model.filter_length_distributions()
            log.info("Table %s ForeClassNet seed %d: %s", table, seed, {k: round(v, 3) for k, v in scores.items()})
        for inputs in input_kinds:
            splits = _split_for(prepared, inputs)
            if "inception" in methods:
                started = time.perf_counter()
                fit = fit_inception(
                    splits, options.get("inception") or {}, seed=seed, device=device,
                    checkpoint_dir=None if folder is None else folder / f"inception_{inputs}" / f"seed_{seed}", resume=resume,
                )  # fmt: skip
                rows += _rows(table, METHOD_LABELS["inception"], inputs, "test", seed, classification_scores(test_y, inception_predict(fit, splits["test"])), time.perf_counter() - started)
            train = merge_splits(splits["train"], splits["val"])
            for name in ("teaser", "mr_hydra", "hc2"):
                if name not in methods or (name in OBSERVED_ONLY and inputs != "observed") or seed not in baseline_seeds:
                    continue
                started = time.perf_counter()
                predictions = baseline_predict(name, train, splits["test"], (options.get("baselines") or {}).get(name), seed)
                rows += _rows(table, METHOD_LABELS[name], inputs, "test", seed, classification_scores(test_y, predictions), time.perf_counter() - started)
            log.info("Table %s, seed %d, %s series: done", table, seed, inputs)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), extras


def joint_concat(first: JointTaskData, second: JointTaskData) -> JointTaskData:
    """The cases of both (same input shape and tasks): original + adversarial training data."""
    if first.X.shape[1:] != second.X.shape[1:] or set(first.targets) != set(second.targets):
        raise ValueError(f"{first.name}: cannot join data of shapes {first.X.shape} and {second.X.shape}")
    return JointTaskData(
        X=np.concatenate([first.X, second.X]),
        lengths=np.concatenate([first.lengths, second.lengths]),
        targets={task: np.concatenate([first.targets[task], second.targets[task]]) for task in first.targets},
        channels=first.channels,
        name=first.name,
        meta=dict(first.meta),
    )


def _perturbed(data: JointTaskData, X: np.ndarray) -> JointTaskData:
    return JointTaskData(X=np.asarray(X, dtype=np.float32), lengths=data.lengths, targets=dict(data.targets), channels=data.channels, name=data.name, meta=dict(data.meta))


def adversarial_tables(
    prepared: Mapping[str, Mapping[str, Any]],
    loss: str,
    options: Mapping[str, Any],
    *,
    device: str,
    checkpoint_dir: str | Path | None,
) -> pd.DataFrame:
    """Tables 5-6 (``loss="cross_entropy"``, Sec. 4.5) or 7-8 (``loss="mse"``, Sec. 4.6).

    Per seed: ForeClassNet is trained on the original data; FGSM (``epsilon``, paper 0.1)
    against its class cross-entropy or its forecast MSE perturbs the observed test series into
    test set (a) and the training/validation series into adversarial training data. Table 5/7:
    every method (the others trained on the original observed series) on (a). Then
    ForeClassNet is re-initialised and trained on original + adversarial data, FGSM against it
    gives test set (c), and Table 6/8 scores every method (the others trained on the same
    original + adversarial series) on the original test set (b), on (a) and on (c).
    """
    from tsmtl.training.adversarial import fgsm_dataset
    from tsmtl.training.device import seed_everything

    if loss not in FGSM_LOSSES:
        raise ValueError(f"loss must be one of {list(FGSM_LOSSES)}, got {loss!r}")
    first_table, second_table = {"cross_entropy": ("5", "6"), "mse": ("7", "8")}[loss]
    loss_fn, target_task = FGSM_LOSSES[loss]
    epsilon = float(options.get("epsilon", 0.1))
    seeds = [int(s) for s in options.get("seeds", [0])]
    baseline_seeds = _baseline_seeds(options, seeds)
    methods = list(options.get("methods") or METHOD_LABELS)
    settings = options.get("foreclassnet") or {}
    training = TrainingConfig.from_params(settings.get("training"))
    mc_samples = int(settings.get("mc_samples", 30))
    resume = bool(options.get("resume", True))
    joint, classes = joint_from_forecast_classify(prepared, name=f"adversarial_{loss}")
    method = _method_from(settings, joint["train"].n_timepoints)
    observed = {split: prepared[split]["observed"] for split in SPLITS}
    test_y = observed["test"].y
    rows: list[dict[str, Any]] = []

    def attack(model, data: JointTaskData, seed: int) -> np.ndarray:
        seed_everything(seed)  # the MC-dropout gradients are stochastic: fix them per attack
        return fgsm_dataset(model, loss_fn, data.X, data.targets[target_task], epsilon, batch_size=int(options.get("batch_size", 512)))

    for seed in seeds:
        folder = None if checkpoint_dir is None else Path(checkpoint_dir) / f"adversarial_{loss}" / f"seed_{seed}"
        started = time.perf_counter()
        original = fit_foreclassnet(joint, len(classes), method, training, seed=seed, device=device, checkpoint_dir=None if folder is None else folder / "original", resume=resume)
        adversarial = {split: attack(original.model, joint[split], seed) for split in SPLITS}
        augmented = {split: joint_concat(joint[split], _perturbed(joint[split], adversarial[split])) for split in ("train", "val")}
        augmented["test"] = joint["test"]
        retrained = fit_foreclassnet(augmented, len(classes), method, training, seed=seed, device=device, checkpoint_dir=None if folder is None else folder / "adversarially_trained", resume=resume)
        test_c = attack(retrained.model, joint["test"], seed)
        test_sets = {"b": joint["test"].X, "a": adversarial["test"], "c": test_c}
        seconds = time.perf_counter() - started

        def fcn_scores(model, X):
            probabilities = foreclassnet_predict(model, X, mc_samples)["class_probabilities"]
            return classification_scores(test_y, classes[probabilities.argmax(axis=1)])

        if "foreclassnet" in methods:
            rows += _rows(first_table, METHOD_LABELS["foreclassnet"], "observed", "a", seed, fcn_scores(original.model, test_sets["a"]), seconds)
            for name, X in test_sets.items():
                rows += _rows(second_table, METHOD_LABELS["foreclassnet"], "observed", name, seed, fcn_scores(retrained.model, X), seconds)
        original_pair = (observed["train"], observed["val"])
        adversarial_pair = tuple(with_values(observed[split], adversarial[split]) for split in ("train", "val"))
        for table, pairs, sets in (
            (first_table, [original_pair], {"a": adversarial["test"]}),
            (second_table, [original_pair, adversarial_pair], test_sets),
        ):
            # (train, val) pairs: Inception keeps them apart, the aeon methods train on all of it
            train = merge_splits(*[part for pair in pairs for part in pair])
            if "inception" in methods:
                started = time.perf_counter()
                train_parts, val_parts = zip(*pairs, strict=True)
                splits = {
                    "train": merge_splits(*train_parts) if len(pairs) > 1 else original_pair[0],
                    "val": merge_splits(*val_parts) if len(pairs) > 1 else original_pair[1],
                    "test": observed["test"],
                }
                fit = fit_inception(
                    splits, options.get("inception") or {}, seed=seed, device=device,
                    checkpoint_dir=None if folder is None else folder / f"inception_table_{table}", resume=resume,
                )  # fmt: skip
                for name, X in sets.items():
                    rows += _rows(table, METHOD_LABELS["inception"], "observed", name, seed, classification_scores(test_y, inception_predict(fit, with_values(observed["test"], X))), time.perf_counter() - started)
            for baseline in ("teaser", "mr_hydra", "hc2"):
                if baseline not in methods or seed not in baseline_seeds:
                    continue
                started = time.perf_counter()
                tests = {name: with_values(observed["test"], X) for name, X in sets.items()}
                predictions = baseline_predict_sets(baseline, train, tests, (options.get("baselines") or {}).get(baseline), seed)
                for name in sets:
                    rows += _rows(table, METHOD_LABELS[baseline], "observed", name, seed, classification_scores(test_y, predictions[name]), time.perf_counter() - started)
        log.info("adversarial (%s), seed %d: done", loss, seed)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


# -- ECG5000 (Sec. 5.1) ----------------------------------------------------------------------------
ECG_PROTOCOLS = {
    "9": "merged TRAIN+TEST, stratified 80/20, 10 % of train as validation; no SMOTE (Table 9)",
    "10": "as Table 9, SMOTE on the training split only (Table 10, without the leak)",
    "10-paper-order": "SMOTE on all 5,000 series first, then the 80/20 split (Table 10 as the paper did it: synthetic neighbours of test series in training)",
    "official": "the UCR archive's TRAIN (500) / TEST (4,500), 10 % of TRAIN as validation",
}


def _subsample(data: TimeSeriesData, n: int | None, seed: int) -> TimeSeriesData:
    """A stratified random ``n`` of the cases (all when ``n`` is None or not smaller)."""
    if not n or n >= data.n_cases:
        return data
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(data.n_cases), train_size=int(n), stratify=data.y, random_state=seed)
    return data.subset(np.sort(keep))


def ecg_protocols(parts: Mapping[str, TimeSeriesData], options: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The forecast-then-classify data of every ECG5000 protocol of ``options["protocols"]``.

    ``parts``: the archive's ``{"train", "test"}``; ``options``: ``horizon`` (5: the last five
    points are the future), ``seed``, ``subsample`` (merged protocols only: a stratified random
    subset of that many series, for CPU profiles), ``protocols`` (keys of
    :data:`ECG_PROTOCOLS`).

    Returns
    -------
    dict protocol -> split -> {"observed": TimeSeriesData, "future": (n, 1, horizon)}
    """
    from tsmtl.data.preprocessing.recipes import smote_oversample
    from tsmtl.data.preprocessing.splits import observed_future_split
    from tsmtl.data.tasks import split_task

    horizon = int(options.get("horizon", 5))
    seed = int(options.get("seed", 0))
    protocols = list(options.get("protocols") or ECG_PROTOCOLS)
    unknown = [p for p in protocols if p not in ECG_PROTOCOLS]
    if unknown:
        raise ValueError(f"unknown ECG5000 protocols {unknown}; choose from {list(ECG_PROTOCOLS)}")
    merged = _subsample(merge_splits(*parts.values()), options.get("subsample"), seed)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for protocol in protocols:
        if protocol == "official":
            splits = split_task(dict(parts), "official", seed=seed, val_fraction=0.1)
        elif protocol == "10-paper-order":
            splits = split_task({"all": smote_oversample(merged, seed=seed)}, "holdout_80_20_val10", seed=seed)
        else:
            splits = split_task({"all": merged}, "holdout_80_20_val10", seed=seed)
            if protocol == "10":
                splits["train"] = smote_oversample(splits["train"], seed=seed)
        out[protocol] = {}
        for split, data in splits.items():
            observed, future = observed_future_split(data, horizon)
            out[protocol][split] = {"observed": observed, "future": future}
        counts = dict(zip(*np.unique(splits["train"].y, return_counts=True)))
        log.info("ECG5000 protocol %s: train %s, test %d", protocol, {int(k): int(v) for k, v in counts.items()}, splits["test"].n_cases)
    return out


def saliency(model: torch.nn.Module, X: np.ndarray, labels: np.ndarray, n_samples: int = 20) -> np.ndarray:
    """Gradient saliency ``|d p(label | x) / d x|`` of ForeClassNet, averaged over MC passes.

    The paper's saliency plots (Figs. 3-7): which observed points move the predicted class
    probability. ``X`` (n, C, m), ``labels`` (n,) class indices; returns (n, C, m).
    """
    from tsmtl.training.loop import model_device

    device = model_device(model)
    was_training = model.training
    model.eval()
    try:
        x = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device).requires_grad_(True)
        index = torch.as_tensor(np.asarray(labels), device=device).long()
        probabilities = torch.stack([torch.softmax(model(x, None, tasks=[CLASS])[CLASS], dim=-1) for _ in range(int(n_samples))]).mean(0)
        (grad,) = torch.autograd.grad(probabilities.gather(1, index[:, None]).sum(), x)
    finally:
        model.train(was_training)
    return grad.abs().detach().cpu().numpy()


# -- stock moves after earnings (Sec. 5.2) ----------------------------------------------------------
def normalise_by_last_observed(data: TimeSeriesData, n_observed: int) -> TimeSeriesData:
    """Every window divided by its last observed close (our choice, not the paper's).

    Raw adjusted closes differ by orders of magnitude between tickers; divided by the close
    before the release the observed points are relative prices and the future point is
    ``1 + return``, the quantity the label thresholds.
    """
    reference = data.X[:, :, n_observed - 1 : n_observed]
    if not (np.isfinite(reference).all() and (reference > 0).all()):
        raise ValueError(f"{data.name}: the last observed close must be positive and finite in every window")
    return with_values(data, data.X / reference)


def chronological_split(data: TimeSeriesData, dates: np.ndarray, test_fraction: float = 0.2, val_fraction: float = 0.1, embargo_days: int = 70) -> dict[str, TimeSeriesData]:
    """Train on earlier releases, test on later ones, with no trading day in both.

    The test split is the latest ``test_fraction`` of the events by date (cut at a date, so a
    day's releases stay together); training keeps only events at least ``embargo_days`` calendar
    days before that date, so no training window (the 40 trading days, about 56 calendar days,
    before its release) shares a day with a test window. Validation is the latest
    ``val_fraction`` of the training events. Returns ``{"train", "val", "test"}``; each split's
    ``meta`` records the date range and the embargo.
    """
    dates = pd.to_datetime(np.asarray(dates)).to_numpy()
    if len(dates) != data.n_cases:
        raise ValueError(f"{data.name}: {len(dates)} dates for {data.n_cases} windows")
    order = np.argsort(dates, kind="stable")
    cutoff = dates[order[int(np.floor((1 - test_fraction) * len(order)))]]
    test = np.flatnonzero(dates >= cutoff)
    before = np.flatnonzero(dates < cutoff - np.timedelta64(int(embargo_days), "D"))
    before = before[np.argsort(dates[before], kind="stable")]
    n_val = int(round(val_fraction * len(before)))
    parts = {"train": before[: len(before) - n_val], "val": before[len(before) - n_val :], "test": test}
    out = {}
    for split, index in parts.items():
        if len(index) == 0:
            raise ValueError(f"{data.name}: the chronological {split} split is empty (too few events?)")
        out[split] = data.subset(np.sort(index), split=split, split_protocol="chronological", embargo_days=int(embargo_days),
                                 first_date=str(pd.Timestamp(dates[index].min()).date()), last_date=str(pd.Timestamp(dates[index].max()).date()))  # fmt: skip
    return out


#: The metrics each table prints (the paper's layout).
TABLE_METRICS = {"4": ("accuracy", "f1_macro", "f1_weighted"), "9": ("accuracy", "f1_macro", "f1_weighted"), "10": ("accuracy", "f1_macro", "f1_weighted")}
METRIC_LABELS = {"accuracy": "accuracy", "f1_macro": "macro F1", "f1_weighted": "weighted F1"}
COLUMN_LABELS = {"observed": "observed*", "full": "full", "a": "(a)", "b": "(b)", "c": "(c)"}


def summarise(results: pd.DataFrame, paper: Mapping[str, pd.DataFrame] | None = None, paper_columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Mean, std and count over seeds per (table, method, column, metric), with the paper's number.

    ``column`` is the test set for the adversarial tables (a, b, c) and otherwise the input
    (observed / full, or a split protocol). ``paper``: ``{table: foreclassnet_table(table)}``;
    ``paper_columns`` maps our column names onto the paper's (e.g. ``{"random": "all"}``).
    """
    frame = results.copy()
    frame["table"] = frame["table"].astype(str)  # a CSV round trip reads "1" back as 1
    frame["column"] = np.where(frame["test_set"] == "test", frame["input"], frame["test_set"])
    grouped = frame.groupby(["table", "method", "column", "metric"], sort=False)["value"]
    summary = grouped.agg(mean="mean", std="std", n_seeds="count").reset_index()
    summary["paper"] = np.nan
    for index, row in summary.iterrows():
        table = (paper or {}).get(str(row["table"]))
        column = (paper_columns or {}).get(row["column"], row["column"])
        if table is not None and row["method"] in table.index and (column, row["metric"]) in table.columns:
            summary.loc[index, "paper"] = table.loc[row["method"], (column, row["metric"])]
    return summary


def _cell(row: pd.Series | None) -> str:
    if row is None:
        return "—"
    text = f"{row['mean']:.2f}" if pd.isna(row["std"]) else f"{row['mean']:.2f} ± {row['std']:.2f}"
    return text + ("" if pd.isna(row["paper"]) else f" [{row['paper']:.2f}]")


def table_markdown(summary: pd.DataFrame, table: str, caption: str, column_labels: Mapping[str, str] | None = None) -> str:
    """One table in the paper's layout: methods x (column, metric), ``mean ± std [paper]``."""
    part = summary[summary["table"] == str(table)]
    if part.empty:
        return f"Table {table}: no results.\n"
    labels = {**COLUMN_LABELS, **dict(column_labels or {})}
    metrics = [m for m in TABLE_METRICS.get(str(table), ("accuracy", "f1_macro")) if m in set(part["metric"])]
    columns = list(dict.fromkeys(part["column"]))
    methods = [m for m in METHOD_LABELS.values() if m in set(part["method"])]
    head = ["Model", *[f"{METRIC_LABELS[m]} {labels.get(c, c)}" for c in columns for m in metrics]]
    lines = [f"**Table {table}.** {caption}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    index = {(r["method"], r["column"], r["metric"]): r for _, r in part.iterrows()}
    for method in methods:
        cells = [_cell(index.get((method, c, m))) for c in columns for m in metrics]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


__all__ = [
    "CLASS",
    "chronological_split",
    "normalise_by_last_observed",
    "ECG_PROTOCOLS",
    "ecg_protocols",
    "saliency",
    "summarise",
    "table_markdown",
    "adversarial_tables",
    "joint_concat",
    "FGSM_LOSSES",
    "FORECAST",
    "METHOD_LABELS",
    "METRICS",
    "RESULT_COLUMNS",
    "baseline_predict",
    "baseline_predict_sets",
    "class_index",
    "class_loss",
    "classification_scores",
    "evaluate_methods",
    "fit_foreclassnet",
    "fit_inception",
    "forecast_loss",
    "foreclassnet_method",
    "foreclassnet_predict",
    "foreclassnet_specs",
    "full_series",
    "inception_predict",
    "joint_from_forecast_classify",
    "with_values",
]
