"""Nodes of ``trep_classification``: thin wrappers over tsmtl.experiments.trep_classification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from tsmtl.data.uea import available_uea_datasets
from tsmtl.evaluation.svm import C_GRID
from tsmtl.experiments.trep_classification import (
    PUBLISHED_UEA_ACCURACY,
    PUBLISHED_UEA_AVERAGE,
    SUPERVISED,
    TREP,
    TS2VEC,
    TS2VEC_OWN_PAPER_UEA_AVERAGE,
    classification_experiment,
    classification_markdown,
    gather_datasets,
    summarise_accuracy,
)


def collect_datasets(archive: Any, options: Mapping[str, Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every UEA set with a TRAIN file in the archive folder, plus ``options["embedded"]``,
    restricted to ``options["datasets"]`` when given; the table of what was found."""
    root = getattr(archive, "root", None)
    names = available_uea_datasets(root) if root is not None else list(archive)
    return gather_datasets(archive, names, options.get("embedded", ["BasicMotions", "JapaneseVowels"]), options.get("datasets"))


def compare_methods(datasets: Mapping[str, Any], options: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """T-Rep (TimeDim), TS2Vec (instance) and ResNet1D on every dataset and seed; first-seed encoders."""
    return classification_experiment(datasets, options, device=device)


def _settings(params: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in dict(params or {}).items())


def report_classification(results: pd.DataFrame, availability: pd.DataFrame, options: Mapping[str, Any]) -> tuple[pd.DataFrame, str]:
    """The summary (mean, std, n_seeds, published) and the Markdown report."""
    summary = summarise_accuracy(results)
    svm = dict(options.get("svm") or {})
    supervised = dict(options.get("supervised") or {})
    present = availability[availability["present"].astype(bool)]
    absent = availability.loc[~availability["present"].astype(bool), "dataset"].tolist()
    fallback = sorted(set(results.loc[results["svm_searched"].eq(False), "dataset"])) if "svm_searched" in results else []
    seconds = results.groupby("method", sort=False)[["fit_seconds", "evaluate_seconds"]].sum().sum(axis=1)
    lines = [
        "# T-Rep, Sec. 4.1: multivariate classification (UEA), official TRAIN/TEST split",
        "",
        f"- profile: {options.get('profile', 'paper')}; encoder seeds {list(options.get('seeds', [0]))}, supervised seeds {list(supervised.get('seeds', options.get('seeds', [0])))}",
        f"- datasets: {', '.join(f'{r.dataset} ({r.source})' for r in present.itertuples())}" + (f"; not found: {', '.join(absent)}" if absent else ""),
        f"- {TREP}: TimeDim protocol (App. 'Classification'): per-step representations max-pooled with kernel = stride = floor(T/{options.get('timedim_windows', 10)}), flattened; settings {_settings(options.get('trep'))}",
        f"- {TS2VEC}: instance-level protocol (max over all steps); settings {_settings(options.get('ts2vec'))}",
        f"- both: RBF SVC (gamma='scale'), C in {{{', '.join(f'{c:g}' for c in svm.get('c_grid', C_GRID))}}} by {svm.get('cv', 5)}-fold GridSearchCV; fewer than 50 training series, fewer than 5 per class or a class with fewer than 5 members: plain fit with C = {svm.get('fallback_c', 1.0)} (T-Rep's code; TS2Vec's code uses C = inf)"
        + (f" -- the case for {', '.join(fallback)}" if fallback else ""),
        f"- {SUPERVISED}: the project's single-task fit (backbone resnet1d {_settings(supervised.get('backbone_params'))}; {_settings(supervised.get('training'))}); a stratified {supervised.get('val_fraction', 0.2)} of TRAIN picks the best epoch, so it trains on less than the encoders' SVMs; series z-normalised one by one",
        "- encoders' input: every channel scaled with TRAIN's mean and std (TS2Vec's UEA loader); NaN pads shorter series and is masked by the encoders",
        "- cells: test accuracy, mean ± std over seeds [published: T-Rep paper, App. 'UEA Classification Full Results', mean of 10 runs; TS2Vec there is the T-Rep authors' rerun with batch 16]",
        f"- wall time (fit + evaluate, summed over datasets and seeds): {', '.join(f'{m} {s:.0f} s' for m, s in seconds.items())}",
        f"- out of reach: the paper's averages over all 30 UEA sets ({TREP} {PUBLISHED_UEA_AVERAGE[TREP]}, {TS2VEC} {PUBLISHED_UEA_AVERAGE[TS2VEC]}; TS2Vec's own paper {TS2VEC_OWN_PAPER_UEA_AVERAGE} on 29) need the {len(PUBLISHED_UEA_ACCURACY)} sets; this run has {len(present)} (drop more `<Name>/<Name>_TRAIN.ts`/`_TEST.ts` into $TSMTL_DATA_DIR/uea and they are picked up). The paper has no supervised baseline.",
        *[f"- {note}" for note in options.get("notes") or []],
    ]
    return summary, classification_markdown(summary, present, lines)
