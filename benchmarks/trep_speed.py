"""Time of one training iteration of our T-Rep and TS2Vec against the authors' code (issue #9).

One iteration is the whole training step as a fit runs it: batch, two random crops, encoder
forward (both crops), the hierarchical loss with all pretext tasks, backward, AdamW step and
the stochastic-weight-average update. Ours is timed inside the project's real
:meth:`tsmtl.training.trep.TRep.fit` (the Trainer loop, ``make_step``, the SWA hook): the worker
stamps the clock at every SWA update, so the interval between two stamps is exactly one
iteration. Theirs is ``../shared/anchors/bench_official.py`` (the authors' ``fit``; see
``../shared/anchors/PATCHES.md``), run unchanged as a subprocess.

**Same work on both sides.** Each model runs in a fresh process per round, ours and theirs
alternating (the order flips every round) so that the load of the shared machine hits both
alike. Both use the same seed in a round, and our worker *replays the authors' crops*: the
authors draw the crop bounds (and, for long series, the training window) with numpy's global
generator, interleaved only with the binomial timestamp masks of their encoder, so seeding
numpy as ``bench_official.py`` does and drawing the same calls in the same order gives the
exact crop lengths of every one of their iterations; our worker feeds these to ``make_step``
in place of its own draw. Both sides thus encode crops of identical lengths at every step
(the batch members and the masks still differ, which does not change the cost). Both time 3
warm-up iterations first, then ``--iters`` iterations in ``--chunks`` equal chunks; the table
gives the mean ms/iteration over all timed iterations of all rounds (sum of times / count),
and the ratio ours / official.

**Clock and threads.** The machine this was written on has 2 cores shared with other jobs, where
two OpenMP threads per process make every time (ours and theirs) swing 2-5x with the load. So the
default is one torch thread per process (``--threads``, the same on both sides) and the process
CPU clock (``--clock cpu``: ``time.process_time``, which a descheduled process does not advance;
for the official script its ``time.perf_counter`` is swapped for ``time.process_time`` before it
runs, nothing else); ``--clock wall`` times wall-clock seconds (``perf_counter``) as the official
script does by itself. With several threads only the wall clock means anything.

Settings (``--settings``, default all three):

* ``a`` -- ECG5000 (UCR train split, 500 x 140), batch 8, width 64, representation 320, depth
  10: TS2Vec's widths for both models; T-Rep adds its 64-d Time2Vec embedding, so its blocks
  are 128 wide (both codes concatenate the embedding to the block input).
* ``b`` -- ECG5000 with the T-Rep authors' defaults: batch 16, widths 64, 128, 256, 256, 256,
  256, 128, 128, 128, 128 (+ 64 for the embedding), representation 128. The official TS2Vec
  takes a single width, so TS2Vec runs with width 64 and otherwise the same settings.
* ``c`` -- ETTh1 univariate (column OT, the 8640 training rows standardised, one series of
  shape (1, 8640, 1), as TS2Vec's univariate forecasting), ``max_train_length`` 3000 (the
  series is cut into 2 sections of 4320; a random 3000-step window per batch), batch 8 (so
  2), width 64, representation 320.

Targets (issue #9): our T-Rep iteration <= 0.5 x the official one, TS2Vec <= 0.7 x, with the
same losses computed (``tests/training/test_trep_loss_parity.py``; the deliberate differences
are listed in :mod:`tsmtl.models.trep` and :mod:`tsmtl.training.trep`).

    python benchmarks/trep_speed.py                                 # a, b, c; 2 rounds x 25 iterations
    python benchmarks/trep_speed.py --settings a --rounds 1 --iters 8 --out /tmp/speed.md
    python benchmarks/trep_speed.py --clock wall --threads 2        # all cores, wall clock
    python benchmarks/trep_speed.py --smoke --json rows.json        # a, TS2Vec, 1 round x 2 iterations

``--json PATH`` writes the rows of ``benchmarks/bench_common.py`` (one per setting and model; the
ratio is the time ratio ours / official). Without the authors' code under ``--anchors`` the
benchmark writes one "anchor missing" row and exits with status 3.

Not a test: absolute times swing between runs on a shared CPU; the ratios are the result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_common import (
    add_common_arguments,
    exit_anchor_missing,
    machine,
    markdown_out,
    result_row,
    write_rows,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ANCHORS = ROOT.parent / "shared" / "anchors"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "trep_speed.md"
AUTHORS_WIDTHS = (64, 128, 256, 256, 256, 256, 128, 128, 128, 128)
WARMUP_ITERATIONS = 3  # bench_official.py's warm-up
TARGETS = {"trep": 0.5, "ts2vec": 0.7}  # ours / official, issue #9
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
ETT_TRAIN_ROWS = {"ETTh1": 8640, "ETTh2": 8640, "ETTm1": 34560, "ETTm2": 34560}  # 12 months (Informer)
SMOKE = {"settings": "a", "models": "ts2vec", "rounds": 1, "iters": 2, "chunks": 1}
ANCHOR = "authors' code (shared/anchors/bench_official.py)"


@dataclass(frozen=True)
class Setting:
    """One benchmark setting; ``hidden`` is an int width or ``"authors"`` (T-Rep's per-block widths)."""

    key: str
    title: str
    data: str
    batch: int
    hidden: str
    repr_dims: int
    depth: int = 10
    max_train_length: int | None = None
    ts2vec_hidden: str | None = None  # when the official TS2Vec cannot take ``hidden``

    def hidden_for(self, model: str) -> str:
        return self.ts2vec_hidden if model == "ts2vec" and self.ts2vec_hidden else self.hidden


SETTINGS = {
    "a": Setting("a", "ECG5000, TS2Vec widths (batch 8, width 64, repr 320)", "ECG5000", 8, "64", 320),
    "b": Setting("b", "ECG5000, T-Rep authors' defaults (batch 16, widths 64-256, repr 128; TS2Vec width 64)",
                 "ECG5000", 16, "authors", 128, ts2vec_hidden="64"),
    "c": Setting("c", "ETTh1 univariate OT (max_train_length 3000, batch 8 -> 2, width 64, repr 320)",
                 "ett:ETTh1", 8, "64", 320, max_train_length=3000),
}


# ---------------------------------------------------------------------------------- the data
def load_training_array(data: str) -> np.ndarray:
    """The array both sides train on, ``(N, T, 1)`` float64, with the project's loaders.

    ``ECG5000``-style names: the UCR train split. ``ett:<name>``: the ``OT`` column of the 12
    training months, standardised with their mean and (population) std -- what
    ``bench_official.py`` reads.
    """
    if data.startswith("ett:"):
        from tsmtl.data.ett import load_ett, split_ett

        name = data.split(":", 1)[1]
        train = split_ett(load_ett(name), name).train["OT"].to_numpy(dtype=np.float64)
        if len(train) != ETT_TRAIN_ROWS[name]:
            raise ValueError(f"{name}: {len(train)} training rows, expected {ETT_TRAIN_ROWS[name]}")
        return ((train - train.mean()) / train.std())[None, :, None]
    from tsmtl.data.ucr import load_ucr_dataset

    x = load_ucr_dataset(data)["train"].X  # (n, C, T)
    return np.asarray(x, dtype=np.float64).transpose(0, 2, 1)


# ------------------------------------------------------------------ the authors' crop sequence
def official_crop_sequence(n_series: int, n_steps: int, batch: int, iterations: int, seed: int,
                           max_train_length: int | None, temporal_unit: int = 0) -> list[tuple[int, int, int, int, np.ndarray]]:
    """The crops of the authors' first ``iterations`` steps after ``np.random.seed(seed)``.

    Replays every draw of numpy's global generator in the official ``fit`` loop (T-Rep and
    TS2Vec alike), in order: the training window when the (sectioned) series are longer than
    ``max_train_length``, the five crop draws, then one ``np.random.binomial`` mask per crop
    in the encoder. ``n_series``, ``n_steps``: the training array after their sectioning.
    Returns ``(crop_l, crop_left, crop_eleft, crop_eright, crop_offset (B,))`` per step.
    """
    rng_state = np.random.get_state()
    np.random.seed(seed)
    b = min(batch, n_series)
    t = n_steps if max_train_length is None else min(n_steps, max_train_length)
    out = []
    try:
        for _ in range(iterations):
            if max_train_length is not None and n_steps > max_train_length:
                np.random.randint(n_steps - max_train_length + 1)
            crop_l = np.random.randint(low=2 ** (temporal_unit + 1), high=t + 1)
            crop_left = np.random.randint(t - crop_l + 1)
            crop_right = crop_left + crop_l
            crop_eleft = np.random.randint(crop_left + 1)
            crop_eright = np.random.randint(low=crop_right, high=t + 1)
            crop_offset = np.random.randint(low=-crop_eleft, high=t - crop_eright + 1, size=b)
            np.random.binomial(1, 0.5, size=(b, crop_right - crop_eleft))  # mask of crop 1
            np.random.binomial(1, 0.5, size=(b, crop_eright - crop_left))  # mask of crop 2
            out.append((int(crop_l), int(crop_left), int(crop_eleft), int(crop_eright), crop_offset))
    finally:
        np.random.set_state(rng_state)
    return out


# ------------------------------------------------------------------------------- the workers
def run_ours(args: argparse.Namespace) -> dict:
    """Time our fit: ``WARMUP_ITERATIONS + iters`` iterations of :meth:`TRep.fit`, stamps at each SWA update."""
    import torch

    import tsmtl.training.trep as trep_training
    from tsmtl.training.trep import Crops, TRep, TRepConfig, _split_sections

    if args.threads:
        torch.set_num_threads(args.threads)
    clock = CLOCKS[args.clock]
    x = load_training_array(args.data)
    n_series, n_steps = _split_sections(x, args.max_train_length).shape[:2]  # both codes cut long series alike
    total = WARMUP_ITERATIONS + args.iters
    crops = official_crop_sequence(n_series, n_steps, args.batch, total, args.seed, args.max_train_length)
    replay = iter(crops)

    def replayed_crops(b: int, t: int, temporal_unit: int = 0) -> Crops:
        crop_l, left, eleft, eright, offset = next(replay)
        offset = torch.from_numpy(offset[:b])
        return Crops(offset + eleft, left + crop_l - eleft, offset + left, eright - left, crop_l)

    stamps: list[float] = []
    average = trep_training.TRepModel.update_average

    def stamped_average(model) -> None:
        average(model)
        stamps.append(clock())

    hidden = AUTHORS_WIDTHS if args.hidden == "authors" else int(args.hidden)
    common = {"repr_dims": args.repr, "hidden_dims": hidden, "depth": args.depth, "batch_size": args.batch,
              "iterations": total, "max_train_length": args.max_train_length}
    if args.model == "trep":
        config = TRepConfig(time_embedding="t2v_sin", time_embedding_dims=64, **common)
    else:
        config = TRepConfig.ts2vec(**common)
    sample_crops = trep_training.sample_crops
    trep_training.sample_crops = replayed_crops
    trep_training.TRepModel.update_average = stamped_average
    try:
        TRep(config, device="cpu", seed=args.seed).fit(x)
    finally:
        trep_training.sample_crops = sample_crops
        trep_training.TRepModel.update_average = average
    if len(stamps) != total:
        raise RuntimeError(f"expected {total} SWA updates, saw {len(stamps)}")
    per_chunk = max(1, args.iters // args.chunks)
    chunks = []
    for k in range(args.chunks):
        lo = WARMUP_ITERATIONS - 1 + k * per_chunk
        chunks.append((stamps[lo + per_chunk] - stamps[lo]) * 1000 / per_chunk)
    return {"model": f"ours-{args.model}", "data": args.data, "shape": list(x.shape), "iters_timed": per_chunk * args.chunks,
            "ms_per_iter_chunks": [round(c, 2) for c in chunks], "torch_threads": torch.get_num_threads(),
            "crop_lengths": [c[0] for c in crops[WARMUP_ITERATIONS:]]}


def _settings_args(model: str, setting: Setting, iters: int, chunks: int, seed: int, threads: int) -> list[str]:
    """The command-line settings both ``bench_official.py`` and our worker take."""
    command = ["--model", model, "--data", setting.data, "--batch", str(setting.batch), "--hidden", setting.hidden_for(model),
               "--repr", str(setting.repr_dims), "--depth", str(setting.depth), "--iters", str(iters), "--chunks", str(chunks),
               "--seed", str(seed), "--threads", str(threads)]
    if setting.max_train_length is not None:
        command += ["--max-train-length", str(setting.max_train_length)]
    return command


def official_command(anchors: Path, clock: str, settings: list[str]) -> list[str]:
    """``bench_official.py`` as it is; with ``clock="cpu"`` its ``time.perf_counter`` is ``time.process_time``."""
    script = str(anchors / "bench_official.py")
    if clock == "wall":
        return [sys.executable, script, *settings]
    swap = ("import runpy, sys, time; time.perf_counter = time.process_time; "
            "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    return [sys.executable, "-c", swap, script, *settings]


def ours_command(clock: str, settings: list[str]) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--worker", "--clock", clock, *settings]


def _run_json(command: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------ report
def summarise(times: dict[tuple[str, str, str], list[float]]) -> list[dict]:
    """Rows ``setting, model, ours ms, official ms, ratio`` from the per-chunk times (ms/iter)."""
    rows = []
    for key in SETTINGS:
        for model in ("trep", "ts2vec"):
            ours, theirs = times.get((key, model, "ours")), times.get((key, model, "official"))
            if not ours or not theirs:
                continue
            mean_ours, mean_theirs = float(np.mean(ours)), float(np.mean(theirs))
            rows.append({"setting": key, "model": model, "ours": mean_ours, "official": mean_theirs,
                         "ratio": mean_ours / mean_theirs, "target": TARGETS[model],
                         "chunk_ratios": [o / t for o, t in zip(ours, theirs, strict=True)]})
    return rows


def markdown(rows: list[dict], header: str) -> str:
    names = {"trep": "T-Rep", "ts2vec": "TS2Vec"}
    lines = [header, "", "| setting | model | ours ms/iter | official ms/iter | ours / official | target | met | chunk ratios (min-max) |",
             "|---|---|---:|---:|---:|---:|:---:|---|"]
    for row in rows:
        ratios = row["chunk_ratios"]
        lines.append(f"| {row['setting']} | {names[row['model']]} | {row['ours']:.1f} | {row['official']:.1f} | {row['ratio']:.2f} | "
                     f"<= {row['target']:.1f} | {'yes' if row['ratio'] <= row['target'] else 'no'} | {min(ratios):.2f}-{max(ratios):.2f} |")
    lines += ["", "Settings:", *[f"- {s.key}: {s.title}" for s in SETTINGS.values()]]
    lines += ["", "Both sides run their defaults otherwise: ours trains the two T-Rep heads (the authors' optimiser covers the "
              "encoder only) and its forecast head is 128 wide (the authors' 64); the losses are the same terms "
              "(tests/training/test_trep_loss_parity.py; the sampling differences are listed in tsmtl.models.trep)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="abc", help="any of a, b, c")
    parser.add_argument("--models", default="trep,ts2vec")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; ours and theirs alternate within each")
    parser.add_argument("--iters", type=int, default=25, help="timed iterations per model per round (after 3 warm-up)")
    parser.add_argument("--chunks", type=int, default=5, help="chunks per round (same split on both sides)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of every process (default 1, see the docstring)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="cpu: process CPU time; wall: wall-clock time")
    parser.add_argument("--anchors", type=Path, default=DEFAULT_ANCHORS)
    parser.add_argument("--out", type=Path, default=None, help=f"Markdown (default {DEFAULT_OUT}; none with --smoke)")
    add_common_arguments(parser)
    # worker mode (one model, one process; prints one JSON line like bench_official.py)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=["trep", "ts2vec"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--hidden", help=argparse.SUPPRESS)
    parser.add_argument("--repr", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--depth", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--max-train-length", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_ours(args)))  # noqa: T201
        return
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    missing = [p for p in (args.anchors / "bench_official.py", args.anchors / "trep", args.anchors / "ts2vec") if not p.exists()]
    if missing:
        exit_anchor_missing("trep_speed", ANCHOR, f"not found: {', '.join(map(str, missing))}", args.json)

    from tsmtl.config import data_dir

    env = dict(os.environ)
    env["TSMTL_DATA_DIR"] = str(Path(data_dir()).resolve())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    models = [m for m in args.models.split(",") if m]
    times: dict[tuple[str, str, str], list[float]] = {}
    started = time.perf_counter()
    for round_ in range(args.rounds):
        seed = round_
        for key in args.settings:
            setting = SETTINGS[key]
            for model in models:
                sides = ["ours", "official"] if round_ % 2 == 0 else ["official", "ours"]
                for side in sides:
                    settings = _settings_args(model, setting, args.iters, args.chunks, seed, args.threads)
                    if side == "ours":
                        result = _run_json(ours_command(args.clock, settings), env)
                    else:
                        result = _run_json(official_command(args.anchors, args.clock, settings), env)
                    times.setdefault((key, model, side), []).extend(result["ms_per_iter_chunks"])
                    print(f"round {round_} {key} {model:6s} {side:8s} {np.mean(result['ms_per_iter_chunks']):8.1f} ms/iter "  # noqa: T201
                          f"chunks {result['ms_per_iter_chunks']}", flush=True)
    import torch

    rows = summarise(times)
    clock = "process CPU time" if args.clock == "cpu" else "wall-clock time"
    header = (f"T-Rep / TS2Vec training iteration, ours vs the authors' code: {args.rounds} rounds x {args.iters} timed iterations "
              f"per model and setting (after 3 warm-up), same seeds and crop lengths on both sides, ours and theirs alternating; "
              f"mean ms/iter of {clock}; CPU, torch {torch.__version__}, {args.threads} torch thread(s) per process, "
              f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end); benchmark wall time {time.perf_counter() - started:.0f} s.")
    text = markdown(rows, header)
    print(text)  # noqa: T201
    out = markdown_out(args.out, DEFAULT_OUT, args.smoke)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    names = {"trep": "T-Rep", "ts2vec": "TS2Vec"}
    json_rows = [
        result_row("trep_speed", f"{names[r['model']]}, setting {r['setting']}: {SETTINGS[r['setting']].title}", r["ours"] / 1000,
                   ANCHOR, r["official"] / 1000, "time ratio",
                   f"s/iteration of {clock}, {args.rounds} round(s) x {args.iters} iterations; target <= {r['target']:.1f} "
                   f"({'met' if r['ratio'] <= r['target'] else 'not met'}); chunk ratios {min(r['chunk_ratios']):.2f}-"
                   f"{max(r['chunk_ratios']):.2f}; load average {os.getloadavg()[0]:.1f}",
                   machine(f"{args.threads} torch thread(s) per process", "CPU"))
        for r in rows
    ]  # fmt: skip
    write_rows(args.json, json_rows)


if __name__ == "__main__":
    main()
