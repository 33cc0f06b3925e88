"""Speed-up of the fan-out of ``ucr_mtl``'s fits (:mod:`tsmtl.parallel`) on this machine (issue #10).

The runs are the quick profile's (``conf/<env>/parameters_ucr_mtl.yml``: every method of Table I
on every task, groups for the multitask methods, every split seed), built as the pipeline builds
them -- the real UCR tasks read with :func:`tsmtl.data.ucr.load_ucr_dataset` under
``tsmtl.config.data_dir()/ucr``, then the ``ucr_mtl`` nodes ``select_groups -> split_groups ->
feed_groups -> run_methods`` -- with ``--epochs`` in place of the profile's 20 (so that one timing
takes minutes) and ``checkpoint_dir: null`` (every fit trains; nothing is resumed or written).

**Anchor**: the same runs with ``fanout.n_jobs: 1``: one after another in this process, on
``--anchor-threads`` torch and numba threads (default: one per core, torch's default on a machine
where ``OMP_NUM_THREADS`` is not set) -- what ``kedro run --pipeline ucr_mtl`` did before the
fan-out. More ``--anchor-threads`` values add sequential runs as references, and by default the
same runs also go once on one thread: on a shared 2-core machine two OpenMP threads per fit lose
much of their time waiting for each other when other jobs run, so the one-thread reference
separates the gain of running fits side by side from the loss of two threads under load. **Ours**: ``n_jobs: --n-jobs`` (default 2) spawned worker processes, each on
``cores // n_jobs`` threads (``threads_per_worker: null``), for every ``--backend``: ``processes``
(a process pool) and/or ``dask`` (a Dask distributed ``LocalCluster`` started for the run). The
fanned-out time includes starting the workers (spawn, imports); the anchor runs first, so it
also pays the first calls of this process (numba cache loads, torch's lazy set-up).

Printed and written as Markdown (``--out``, default ``benchmarks/results/ucr_fanout.md``): both
times, the speed-up (sequential / fanned out), the sum of the fits' own seconds on each side,
the load average around each timing, and whether the result rows are equal: test and validation
accuracy, best epoch and epochs run of every (split seed, task, method). One thread per fit
against two changes the order of float sums, so a fit may end a few ulps apart and, rarely,
pick another best epoch; the table says how many rows differ and by how much.

    nice -n 10 python benchmarks/ucr_fanout.py                          # Cricket + DodgerLoop, seeds 0-4
    python benchmarks/ucr_fanout.py --backend processes,dask --anchor-threads 2   # both engines, no 1-thread reference
    python benchmarks/ucr_fanout.py --groups DodgerLoop --split-seeds 0 1 --methods resnet1d resnet2d_mtl
    python benchmarks/ucr_fanout.py --smoke --json rows.json           # DodgerLoop, one seed, 1 epoch

Not a test: absolute times swing 2-3x on a shared CPU; the speed-up is the result.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_common import add_common_arguments, machine, markdown_out, result_row, write_rows

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "ucr_fanout.md"
DEFAULT_GROUPS = ["Cricket", "DodgerLoop"]
DEFAULT_EPOCHS = 2
#: the anchor on one thread per core (torch's default), then a one-thread sequential reference
DEFAULT_ANCHOR_THREADS = [os.cpu_count() or 1] + ([1] if (os.cpu_count() or 1) > 1 else [])
#: columns that must match between the sequential and the fanned-out rows
COMPARED = ["accuracy", "val_accuracy", "best_epoch", "epochs_run"]
KEYS = ["split_seed", "group", "task", "method"]
#: one 1NN-DTW fit per task and one ResNet1D MTL fit, 1 epoch, one-thread anchor: seconds of work, the rest is start-up
SMOKE = {"groups": ["DodgerLoop"], "split_seeds": [0], "epochs": 1, "methods": ["1nn_dtw", "resnet1d_mtl"], "anchor_threads": [1]}


def load_parameters(env: str) -> dict[str, Any]:
    """The project's parameters for ``env`` (base merged with it), read by Kedro's config loader as a run reads them."""
    from kedro.config import OmegaConfigLoader

    from tsmtl.settings import CONFIG_LOADER_ARGS

    with warnings.catch_warnings():  # omegaconf's deprecation of the resolver registration Kedro uses
        warnings.simplefilter("ignore", UserWarning)
        loader = OmegaConfigLoader(conf_source=str(ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)
        return dict(loader["parameters"])


def build_groups(parameters: dict[str, Any], options: dict[str, Any]):
    """The fed splits ``{split_seed: {group: {task: {"train", "val", "test"}}}}`` of the pipeline's first three nodes."""
    from tsmtl.config import data_dir
    from tsmtl.data.ucr import available_ucr_datasets, load_ucr_dataset
    from tsmtl.pipelines.ucr_mtl.nodes import feed_groups, select_groups, split_groups

    root = data_dir() / "ucr"
    present = set(available_ucr_datasets(root))
    groups = parameters["ucr"]["groups"]
    wanted = [task for group in options["groups"] for task in groups.get(group, []) if task in present]
    raw_tasks = {task: load_ucr_dataset(task, root) for task in wanted}
    selected = select_groups(raw_tasks, groups, options)
    return feed_groups(split_groups(selected, parameters["ucr"]["split"], options), options.get("feeding"))


def set_threads(threads: int) -> None:
    """torch and numba threads of this process (the anchor's)."""
    import numba
    import torch

    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def timed_run(fed, options: dict[str, Any], fanout: dict[str, Any], device: str) -> dict[str, Any]:
    """``run_methods`` (the pipeline's node) with ``fanout``; wall seconds, load averages and the result rows."""
    from tsmtl.pipelines.ucr_mtl.nodes import run_methods

    options = {**options, "fanout": fanout}
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    results = run_methods(fed, options, device)[0]  # (results, features, state dicts)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "results": results, "load": (load_before, os.getloadavg()[0])}


def compare_results(anchor: pd.DataFrame, ours: pd.DataFrame) -> dict[str, Any]:
    """How the fanned-out rows differ from the sequential ones on :data:`COMPARED`.

    Returns ``rows`` (compared), ``equal`` (rows equal in every compared column), ``max_accuracy_diff``
    (largest |test accuracy difference|), ``best_epoch_differs`` (rows whose best epoch moved) and
    ``missing`` (rows on one side only).
    """
    merged = anchor[KEYS + COMPARED].merge(ours[KEYS + COMPARED], on=KEYS, how="outer", suffixes=("_seq", "_fan"),
                                           indicator=True)  # fmt: skip
    both = merged[merged["_merge"] == "both"]
    equal = np.ones(len(both), dtype=bool)
    for column in COMPARED:
        a, b = both[f"{column}_seq"].to_numpy(dtype=float), both[f"{column}_fan"].to_numpy(dtype=float)
        equal &= (a == b) | (np.isnan(a) & np.isnan(b))
    accuracy_diff = np.abs(both["accuracy_seq"].to_numpy(dtype=float) - both["accuracy_fan"].to_numpy(dtype=float))
    return {
        "rows": len(both),
        "equal": int(equal.sum()),
        "max_accuracy_diff": float(accuracy_diff.max()) if len(both) else 0.0,
        "best_epoch_differs": int((both["best_epoch_seq"].fillna(-1) != both["best_epoch_fan"].fillna(-1)).sum()),
        "missing": int((merged["_merge"] != "both").sum()),
    }


def describe_comparison(comparison: dict[str, Any]) -> str:
    if comparison["equal"] == comparison["rows"] and not comparison["missing"]:
        return f"all {comparison['rows']} result rows equal"
    text = (f"{comparison['equal']} of {comparison['rows']} result rows equal; max |test accuracy diff| "
            f"{comparison['max_accuracy_diff']:.4f}; best epoch moved in {comparison['best_epoch_differs']}")
    return text + (f"; {comparison['missing']} rows on one side only" if comparison["missing"] else "")


def fit_seconds(results: pd.DataFrame) -> float:
    """The fits' own wall seconds, summed (one per fit: an MTL fit has a row per task)."""
    return float(results.drop_duplicates(["split_seed", "method", "fit"])["seconds"].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="quick", help="Kedro environment of the profile (conf/<env>)")
    parser.add_argument("--groups", nargs="+", default=DEFAULT_GROUPS)
    parser.add_argument("--split-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="epochs of every network fit (profile: 20)")
    parser.add_argument("--methods", nargs="+", default=None, help="method ids (default: all of the profile)")
    parser.add_argument("--n-jobs", type=int, default=2, help="workers of the fan-out")
    parser.add_argument("--backend", default="processes", help="comma-separated: processes, dask")
    parser.add_argument("--anchor-threads", type=int, nargs="+", default=DEFAULT_ANCHOR_THREADS,
                        help="torch/numba threads of the sequential run, the first the anchor, the others references "
                        f"(default {' '.join(map(str, DEFAULT_ANCHOR_THREADS))}: one per core, then one)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--progress", action="store_true", help="log every fit of the sequential runs")
    parser.add_argument("--out", type=Path, default=None, help=f"Markdown (default {DEFAULT_OUT}; none with --smoke)")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(processName)s %(name)s: %(message)s")
    logging.getLogger("distributed").setLevel(logging.WARNING)  # the LocalCluster's start/stop chatter
    if args.progress:  # one line per fit of the sequential runs (the workers log at WARNING)
        logging.getLogger("tsmtl.experiments.ucr_mtl").setLevel(logging.INFO)

    parameters = load_parameters(args.env)
    options = copy.deepcopy(dict(parameters["ucr_mtl"]))
    options.update(groups=args.groups, split_seeds=args.split_seeds, select=args.methods, checkpoint_dir=None, resume=False)
    options["training"] = {**options.get("training", {}), "epochs": args.epochs, "progress": False}
    fed = build_groups(parameters, options)
    from tsmtl.experiments.ucr_mtl import parse_methods, plan_runs, select_methods
    from tsmtl.training.fit import TrainingConfig

    chosen = select_methods(parse_methods(options["methods"], options.get("backbones")), options.get("select"))
    runs = plan_runs(fed, chosen, TrainingConfig.from_params(options["training"]), device=args.device, seed=0,
                     checkpoint_dir=None, resume=False)  # fmt: skip
    tasks = sorted({task for groups in fed.values() for tasks in groups.values() for task in tasks})
    methods = [m.id for m in chosen]
    print(f"{len(runs)} fits: {len(args.split_seeds)} split seeds x methods {methods} x tasks {tasks}; "  # noqa: T201
          f"{args.epochs} epoch(s); device {args.device}", flush=True)

    import torch

    from tsmtl.parallel import FanOut

    sequential = []  # the anchor first, then any other thread counts (references only)
    for threads in args.anchor_threads:
        set_threads(threads)
        run = timed_run(fed, options, {"n_jobs": 1}, args.device)
        run.update(name=f"sequential, {torch.get_num_threads()} thread(s)", threads=torch.get_num_threads())
        sequential.append(run)
        print(f"{run['name']} (n_jobs 1): {run['seconds']:.1f} s", flush=True)  # noqa: T201
    anchor = sequential[0]
    workers = FanOut(n_jobs=args.n_jobs).workers(len(runs))
    worker_threads = FanOut(n_jobs=args.n_jobs).threads(workers)
    fanned_runs = []
    for backend in backends:
        fanout = {"n_jobs": args.n_jobs, "backend": backend, "threads_per_worker": None, "dask_address": None}
        run = timed_run(fed, options, fanout, args.device)
        run.update(name=f"{backend}, {workers} x {worker_threads} thread(s)", threads=worker_threads, backend=backend)
        fanned_runs.append(run)
        print(f"{backend} (n_jobs {args.n_jobs}, {worker_threads} thread(s) per worker): {run['seconds']:.1f} s; "  # noqa: T201
              f"speed-up {anchor['seconds'] / run['seconds']:.2f}x; "
              f"{describe_comparison(compare_results(anchor['results'], run['results']))}", flush=True)

    what = (f"ucr_mtl {args.env} profile, groups {' + '.join(args.groups)}, {len(args.split_seeds)} split seed(s), "
            f"{args.epochs} epoch(s): {len(runs)} fits")
    rows = []
    for reference in sequential:  # the anchor's rows first; a one-thread reference isolates the gain of parallelism
        for run in fanned_runs:
            case = f"{what}; {run['backend']}, n_jobs {args.n_jobs} x {worker_threads} thread(s)"
            detail = (f"{describe_comparison(compare_results(anchor['results'], run['results']))}; fits' own seconds summed: "
                      f"sequential {fit_seconds(reference['results']):.0f}, fanned out {fit_seconds(run['results']):.0f}; "
                      f"load average {reference['load'][0]:.1f} -> {run['load'][1]:.1f}")
            rows.append(result_row("ucr_fanout", case, run["seconds"], f"sequential: n_jobs 1, one process, {reference['threads']} "
                                   "torch thread(s)", reference["seconds"], "speed-up", detail,
                                   machine(f"{reference['threads']} torch thread(s) sequential, {worker_threads} per worker", "CPU")))

    command = (f"python benchmarks/ucr_fanout.py --groups {' '.join(args.groups)} --split-seeds {' '.join(map(str, args.split_seeds))} "
               f"--epochs {args.epochs} --backend {','.join(backends)} --anchor-threads {' '.join(map(str, args.anchor_threads))}"
               + (f" --methods {' '.join(args.methods)}" if args.methods else ""))
    lines = [
        "# Fan-out of `ucr_mtl`'s fits: `tsmtl.parallel` against the sequential run",
        "",
        f"`{command}`",
        "",
        f"- runs: the `{args.env}` profile's methods {methods} on {tasks} (the multitask methods once per group), "
        f"split seeds {args.split_seeds}, {args.epochs} epoch(s) each, checkpoint_dir null: {len(runs)} fits, built by the "
        "pipeline's nodes on the real UCR data",
        f"- anchor: {anchor['name']} -- `n_jobs: 1`, the runs one after another in this process, torch and numba on "
        f"{anchor['threads']} thread(s)" + ("; the other sequential lines are references" if len(sequential) > 1 else ""),
        f"- fanned out: `n_jobs: {args.n_jobs}`, `threads_per_worker: null` ({worker_threads} per worker); the time includes "
        "starting the workers",
        f"- machine: {os.cpu_count()} cores, CPU (device {args.device}), torch {torch.__version__}; the load average (1 min) "
        "around each timing is in the table: other jobs share this machine",
        "",
        "| run | workers x threads | wall (s) | speed-up over the anchor | fits' own seconds, summed | load avg before -> after | "
        "result rows against the anchor's |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for run in sequential + fanned_runs:
        workers_text = f"1 x {run['threads']}" if run in sequential else f"{workers} x {run['threads']}"
        rows_text = "(the anchor)" if run is anchor else describe_comparison(compare_results(anchor["results"], run["results"]))
        lines.append(
            f"| {run['name']} | {workers_text} | {run['seconds']:.1f} | {anchor['seconds'] / run['seconds']:.2f} | "
            f"{fit_seconds(run['results']):.0f} | {run['load'][0]:.1f} -> {run['load'][1]:.1f} | {rows_text} |"
        )
    if len(sequential) > 1:
        lines += ["", "Speed-up of each fan-out over each sequential run:", "",
                  "| fanned out | " + " | ".join(f"over {s['name']}" for s in sequential) + " |",
                  "|---|" + "---:|" * len(sequential),
                  *[f"| {f['name']} | " + " | ".join(f"{s['seconds'] / f['seconds']:.2f}" for s in sequential) + " |"
                    for f in fanned_runs]]  # fmt: skip
    per_method = pd.DataFrame({
        run["name"]: run["results"].drop_duplicates(["split_seed", "method", "fit"]).groupby("method")["seconds"].sum()
        for run in sequential + fanned_runs
    })  # fmt: skip
    lines += [
        "",
        "Fits' own seconds per method, summed over the fits (a fit on one thread takes longer than on two; the fan-out wins "
        "when two one-thread fits at once beat one two-thread fit after another):",
        "",
        "| method | " + " | ".join(per_method.columns) + " |",
        "|---|" + "---:|" * len(per_method.columns),
        *[f"| {method} | " + " | ".join(f"{v:.1f}" for v in row) + " |" for method, row in per_method.iterrows()],
        "",
        "Result rows: test and validation accuracy, best epoch and epochs run of every (split seed, task, method), "
        "against the anchor's.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)  # noqa: T201
    out = markdown_out(args.out, DEFAULT_OUT, args.smoke)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"written {out}")  # noqa: T201
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
