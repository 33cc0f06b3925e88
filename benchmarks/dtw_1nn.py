"""1NN-DTW on ECG5000's official split: the project's kernel against aeon's classifier, one run.

The anchor is aeon 1.6's ``KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1,
distance_params={"window": w})``, timed in the same process just before the project's
:func:`tsmtl.models.dtw_1nn.one_nn_dtw_predict`, for the unconstrained window and window 0.1
(500 training x 4,500 test series of length 140). Both are compiled on a few series first, so
no numba compilation is timed. The kernel runs twice: on ``--n-jobs`` threads (parallel over
queries) and on one thread; aeon predicts one query at a time, so its ``n_jobs`` has nothing
to parallelise (its time is the same for any value). Printed and written as Markdown: seconds,
the ratio aeon / ours, both accuracies, and whether the predictions are identical.

    python benchmarks/dtw_1nn.py                     # full split (aeon: ~5 min on a quiet 2-core CPU)
    python benchmarks/dtw_1nn.py --subset 300        # the first 300 test series only
    python benchmarks/dtw_1nn.py --smoke --json rows.json   # ECG200, 10 test series: proves it runs

``--json PATH`` writes the rows of ``benchmarks/bench_common.py`` (one per window and thread
count; the ratio is the speed-up aeon / ours), which ``benchmarks/run_all.py`` collects.

Not a test: absolute times move with the machine's load; the ratio is the result.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import aeon
import numpy as np
from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier
from bench_common import add_common_arguments, machine, markdown_out, result_row, write_rows

from tsmtl.config import data_dir
from tsmtl.data.ucr import load_ucr_dataset
from tsmtl.models.dtw_1nn import nearest_neighbour_dtw

DEFAULT_OUT = Path(__file__).parent / "results" / "dtw_1nn.md"
SMOKE = {"dataset": "ECG200", "subset": 10, "windows": "0.1"}  # a few seconds, numba caches warm


def _aeon(X_train, y_train, X_test, window, n_jobs):
    classifier = KNeighborsTimeSeriesClassifier(
        n_neighbors=1, distance="dtw", distance_params={"window": window}, n_jobs=n_jobs
    )
    classifier.fit(X_train, y_train)
    return classifier.predict(X_test)


def _ours(X_train, y_train, X_test, window, n_jobs):
    result = nearest_neighbour_dtw(X_train, X_test, window, n_jobs=n_jobs)
    return y_train[result.index], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ECG5000")
    parser.add_argument("--subset", type=int, default=None, help="first N test series only")
    parser.add_argument("--windows", default="none,0.1", help="comma-separated; 'none' = unconstrained")
    parser.add_argument("--n-jobs", type=int, default=2, help="threads of both (aeon's make no difference)")
    parser.add_argument("--out", type=Path, default=None, help=f"Markdown (default {DEFAULT_OUT}; none with --smoke)")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    out = markdown_out(args.out, DEFAULT_OUT, args.smoke)

    splits = load_ucr_dataset(args.dataset, data_dir() / "ucr")
    train, test = splits["train"], splits["test"]
    X_train = np.asarray(train.X, dtype=np.float64)
    X_test = np.asarray(test.X, dtype=np.float64)
    y_train, y_test = np.asarray(train.y), np.asarray(test.y)
    if args.subset:
        X_test, y_test = X_test[: args.subset], y_test[: args.subset]
    windows = [None if w.strip().lower() == "none" else float(w) for w in args.windows.split(",")]
    print(f"{args.dataset}: train {X_train.shape}, test {X_test.shape}, n_jobs {args.n_jobs}")  # noqa: T201

    for window in windows:  # compile both (numba) on a few series, untimed
        few = np.concatenate([np.flatnonzero(y_train == c)[:2] for c in np.unique(y_train)[:2]])
        _aeon(X_train[few], y_train[few], X_test[:2], window, args.n_jobs)
        _ours(X_train[few], y_train[few], X_test[:2], window, args.n_jobs)

    rows = []
    for window in windows:
        started = time.perf_counter()
        aeon_pred = _aeon(X_train, y_train, X_test, window, args.n_jobs)
        aeon_s = time.perf_counter() - started
        started = time.perf_counter()
        ours_pred, result = _ours(X_train, y_train, X_test, window, args.n_jobs)
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        ours1_pred, _ = _ours(X_train, y_train, X_test, window, 1)
        ours1_s = time.perf_counter() - started
        row = {
            "window": "full" if window is None else f"{window:g}",
            "aeon_s": aeon_s,
            "ours_s": ours_s,
            "ours_1thread_s": ours1_s,
            "ratio": aeon_s / ours_s,
            "ratio_1thread": aeon_s / ours1_s,
            "aeon_acc": float(np.mean(aeon_pred == y_test)),
            "ours_acc": float(np.mean(ours_pred == y_test)),
            "identical": bool(np.array_equal(aeon_pred, ours_pred) and np.array_equal(aeon_pred, ours1_pred)),
            "dtw_started": float(result.n_dtw.mean() / len(X_train)),
            "tied_queries": int(np.sum(result.n_ties > 1)),
        }
        rows.append(row)
        print(  # noqa: T201
            f"window {row['window']}: aeon {aeon_s:.1f} s, ours {ours_s:.2f} s ({args.n_jobs} threads; "
            f"ratio {row['ratio']:.1f}x), ours 1 thread {ours1_s:.2f} s (ratio {row['ratio_1thread']:.1f}x); "
            f"accuracy aeon {row['aeon_acc']:.4f} ours {row['ours_acc']:.4f}; identical predictions: "
            f"{row['identical']}; DPs started {100 * row['dtw_started']:.1f}% of pairs",
            flush=True,
        )

    lines = [
        f"# 1NN-DTW: `tsmtl.models.dtw_1nn` against aeon's `KNeighborsTimeSeriesClassifier` ({args.dataset})",
        "",
        f"{args.dataset} official split: {len(X_train)} train x {len(X_test)} test"
        + (f" (first {args.subset} test series)" if args.subset else "")
        + f", length {X_train.shape[2]}; one run, aeon timed first; {args.n_jobs} threads for ours "
        f"(aeon predicts one query at a time, so its threads have nothing to share). "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end, `python benchmarks/dtw_1nn.py"
        + (f" --subset {args.subset}" if args.subset else "")
        + "`.",
        "",
        f"| window | aeon (s) | ours, {args.n_jobs} threads (s) | ratio | ours, 1 thread (s) | ratio, 1 thread | "
        "accuracy aeon | accuracy ours | identical predictions | DPs started |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['window']} | {r['aeon_s']:.1f} | {r['ours_s']:.2f} | {r['ratio']:.1f}x | {r['ours_1thread_s']:.2f} | "
            f"{r['ratio_1thread']:.1f}x | {r['aeon_acc']:.4f} | {r['ours_acc']:.4f} | "
            f"{'yes' if r['identical'] else 'NO'} | {100 * r['dtw_started']:.1f}% |"
        )
    lines += [
        "",
        "DPs started: the share of query-train pairs whose DTW dynamic programme was begun (the others "
        "were pruned by LB_Kim / LB_Keogh); begun ones are still abandoned early, row by row.",
    ]
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print(f"written {out}")  # noqa: T201
    write_rows(args.json, json_rows(rows, args, len(X_train), len(X_test)))


def json_rows(rows: list[dict], args: argparse.Namespace, n_train: int, n_test: int) -> list[dict]:
    """The rows of ``bench_common``: per window, ours on ``n_jobs`` threads and on one thread, against aeon."""
    anchor = f"aeon {aeon.__version__} KNeighborsTimeSeriesClassifier(distance='dtw')"
    out = []
    for r in rows:
        detail = (f"{n_train} train x {n_test} test; accuracy aeon {r['aeon_acc']:.4f}, ours {r['ours_acc']:.4f}; "
                  f"identical predictions: {'yes' if r['identical'] else 'NO'}; DPs started {100 * r['dtw_started']:.1f}%; "
                  f"load average {os.getloadavg()[0]:.1f}")
        for threads, ours_s in ((args.n_jobs, r["ours_s"]), (1, r["ours_1thread_s"])):
            case = f"{args.dataset}, window {r['window']}, {threads} thread{'s' if threads > 1 else ''}"
            out.append(result_row("dtw_1nn", case, ours_s, anchor, r["aeon_s"], "speed-up", detail,
                                  machine(f"{threads} numba thread(s)", "CPU")))
    return out


if __name__ == "__main__":
    main()
