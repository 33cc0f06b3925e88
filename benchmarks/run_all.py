"""Run every benchmark, one after another, and write one Markdown table of their ratios (issue #10).

Each benchmark is a script ``benchmarks/<name>.py`` with the interface of
``benchmarks/bench_common.py``: run here as a subprocess with ``--json <tmp>`` (and ``--smoke``
when given), it measures ours against its anchor in the same run and writes its rows. The
benchmarks run sequentially (they time the whole machine; two at once would measure each
other). A benchmark that fails, writes no rows, or lacks its anchor (e.g. the authors' code under
``../shared/anchors`` for ``trep_speed``) gets a row saying so and the runner goes on; the exit
status is 1 when any row is not measured.

    python benchmarks/run_all.py                                  # all, into benchmarks/results/summary.md
    python benchmarks/run_all.py --only dtw_1nn,ucr_fanout
    python benchmarks/run_all.py --smoke                          # tiny sizes: proves every script runs; prints only
    python benchmarks/run_all.py --only ucr_fanout --extra "ucr_fanout=--backend processes,dask"   # a benchmark's own options

The table: benchmark, case, anchor, our time, the anchor's time, the ratio and what it means
(speed-up = anchor / ours, time ratio = ours / anchor), date, machine (cores, threads, CPU or
GPU), git commit. Absolute times swing 2-3x on a shared CPU; the ratios are the result.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_common import EXIT_ANCHOR_MISSING, RATIO_MEANINGS, unmeasured_row

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = HERE / "results" / "summary.md"
#: name -> the anchor it measures against (the row of a benchmark that wrote none names it)
BENCHMARKS = {
    "dtw_1nn": "aeon's KNeighborsTimeSeriesClassifier(distance='dtw')",
    "weighting_overhead": "equal weighting (same run)",
    "ucr_fanout": "sequential ucr_mtl run (n_jobs 1)",
    "trep_speed": "authors' T-Rep / TS2Vec code (shared/anchors)",
}
COLUMNS = ["benchmark", "case", "anchor", "ours (s)", "anchor (s)", "ratio", "ratio means", "date", "machine", "commit", "detail"]


def git_commit(root: Path = ROOT) -> str:
    """Short HEAD, with "+ uncommitted changes" when src/, benchmarks/ or conf/ differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "benchmarks", "conf"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} + uncommitted changes" if dirty else head


def run_benchmark(name: str, script: Path, smoke: bool, timeout: float | None = None, extra: list[str] | None = None) -> list[dict[str, Any]]:
    """Run one benchmark script as a subprocess; its rows, or one row saying why there are none.

    The child's output is passed through (progress) and its last lines kept for a failure row.
    """
    anchor = BENCHMARKS.get(name, "-")
    if not script.is_file():
        return [unmeasured_row(name, "failed", anchor, f"no script {script}")]
    with tempfile.TemporaryDirectory() as folder:
        json_path = Path(folder) / f"{name}.json"
        command = [sys.executable, str(script), "--json", str(json_path)] + (["--smoke"] if smoke else []) + list(extra or [])
        print(f"== {name}: {' '.join(command[1:])}", flush=True)  # noqa: T201
        tail: collections.deque[str] = collections.deque(maxlen=20)
        started = time.perf_counter()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the child's log lines as they come, not in 8 KB blocks
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            process.kill()

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer is not None:
            timer.start()
        for line in process.stdout:
            print(line, end="", flush=True)  # noqa: T201
            tail.append(line.rstrip())
        returncode = process.wait()
        if timer is not None:
            timer.cancel()
        rows = json.loads(json_path.read_text()) if json_path.is_file() else []
    print(f"== {name}: exit {returncode} after {time.perf_counter() - started:.0f} s", flush=True)  # noqa: T201
    return rows_of_run(name, returncode, rows, list(tail), timed_out.is_set())


def rows_of_run(name: str, returncode: int, rows: list[dict[str, Any]], tail: list[str], timed_out: bool = False) -> list[dict[str, Any]]:
    """The rows a benchmark run contributes to the table, given its exit status, its JSON rows and its last output lines."""
    anchor = BENCHMARKS.get(name, "-")
    if timed_out:
        return [unmeasured_row(name, "failed", anchor, f"killed after the runner's timeout; last output: {_last(tail)}")]
    if returncode == EXIT_ANCHOR_MISSING:
        return rows or [unmeasured_row(name, "anchor missing", anchor, _last(tail))]
    if returncode != 0:
        return [unmeasured_row(name, "failed", anchor, f"exit status {returncode}: {_last(tail)}")]
    if not rows:
        return [unmeasured_row(name, "failed", anchor, "exited 0 but wrote no rows")]
    return rows


def _last(tail: list[str]) -> str:
    lines = [line for line in tail if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 1 else f"{value:.1f}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_markdown(rows: list[dict[str, Any]], date: str, commit: str, command: str, smoke: bool = False) -> str:
    """ONE Markdown table of every row (:data:`COLUMNS`), with a header saying how to read the ratios."""
    lines = [
        "# Benchmarks: ours against each anchor, measured in the same run" + (" (SMOKE: tiny sizes, not results)" if smoke else ""),
        "",
        f"`{command}` on {date}, commit {commit}. Every benchmark measures its anchor in the same run; the ratio is the result "
        "(absolute times swing 2-3x between runs on a shared CPU). "
        + " ".join(f"**{meaning}**: {text}." for meaning, text in RATIO_MEANINGS.items()),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---:" if c in ("ours (s)", "anchor (s)", "ratio") else "---" for c in COLUMNS) + "|",
    ]
    for row in rows:
        if row.get("status", "ok") == "ok":
            ratio = f"{row['ratio']:.2f}"
            meaning = row["ratio_meaning"]
        else:
            ratio, meaning = row["status"].upper(), "not measured"
        cells = [row["benchmark"], row["case"], row["anchor"], _seconds(row["ours_s"]), _seconds(row["anchor_s"]), ratio, meaning,
                 date, row.get("machine", "-"), commit, row.get("detail", "")]  # fmt: skip
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--smoke", action="store_true", help="every benchmark at its tiny size (proves they run; measures nothing)")
    parser.add_argument("--out", type=Path, default=None, help=f"the table (default {DEFAULT_OUT}; with --smoke: printed only)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before a benchmark is killed (default: none)")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=ARGS",
                        help='more arguments for one benchmark, e.g. --extra "ucr_fanout=--backend processes,dask"')
    parser.add_argument("--benchmarks-dir", type=Path, default=HERE, help=argparse.SUPPRESS)  # tests: stand-in scripts
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS and not (args.benchmarks_dir / f"{n}.py").is_file()]
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; known: {list(BENCHMARKS)}")
    extra: dict[str, list[str]] = {}
    for item in args.extra:
        name, _, text = item.partition("=")
        if name not in names:
            parser.error(f"--extra {item!r}: {name!r} is not among the benchmarks run ({names})")
        extra[name] = extra.get(name, []) + shlex.split(text)
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    commit = git_commit()
    rows: list[dict[str, Any]] = []
    for name in names:
        rows += run_benchmark(name, args.benchmarks_dir / f"{name}.py", args.smoke, args.timeout, extra.get(name, []))
    command = ("python benchmarks/run_all.py" + (f" --only {','.join(names)}" if args.only else "") + (" --smoke" if args.smoke else "")
               + "".join(f" --extra {shlex.quote(item)}" for item in args.extra))
    text = summary_markdown(rows, date, commit, command, args.smoke)
    print(text)  # noqa: T201
    out = args.out if args.out is not None else (None if args.smoke else DEFAULT_OUT)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"written {out}")  # noqa: T201
    not_measured = [f"{r['benchmark']} ({r['status']})" for r in rows if r.get("status", "ok") != "ok"]
    if not_measured:
        print(f"not measured: {', '.join(not_measured)}", file=sys.stderr)  # noqa: T201
    return 1 if not_measured else 0


if __name__ == "__main__":
    sys.exit(main())
