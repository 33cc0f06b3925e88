"""The interface every benchmark shares (issue #10): ``--smoke``, ``--json PATH`` and the result rows.

A benchmark run as ``python benchmarks/<name>.py [--smoke] [--json PATH]`` measures its anchor in
the same run as ours and writes, besides its own Markdown, a JSON list of rows::

    {"benchmark": "dtw_1nn", "case": "ECG5000, window 0.1, 2 threads", "ours_s": 4.85,
     "anchor": "aeon 1.6 KNeighborsTimeSeriesClassifier(distance='dtw')", "anchor_s": 152.0,
     "ratio": 31.4, "ratio_meaning": "speed-up", "detail": "...", "status": "ok",
     "machine": "2 cores, 2 numba threads, CPU"}

``ratio_meaning`` is ``"speed-up"`` (anchor time / our time: above 1 is faster) or ``"time ratio"``
(our time / anchor time: below 1 is faster). ``status`` is ``"ok"``, ``"failed"`` or
``"anchor missing"``; a benchmark that cannot run its anchor writes one row saying so and exits
with :data:`EXIT_ANCHOR_MISSING`. ``benchmarks/run_all.py`` collects the rows into one table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

RATIO_MEANINGS = {
    "speed-up": "anchor time / our time (above 1: ours is faster)",
    "time ratio": "our time / anchor time (below 1: ours is faster)",
}
STATUSES = ("ok", "failed", "anchor missing")
EXIT_ANCHOR_MISSING = 3
ROW_KEYS = ("benchmark", "case", "ours_s", "anchor", "anchor_s", "ratio", "ratio_meaning", "detail", "status", "machine")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--smoke`` (a tiny size in seconds, proving the script runs; never the reported numbers) and ``--json PATH``."""
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds: proves the script runs, measures nothing")
    parser.add_argument("--json", type=Path, default=None, help="write the result rows (benchmarks/bench_common.py) here")


def ratio_of(ours_s: float, anchor_s: float, meaning: str) -> float:
    """``anchor_s / ours_s`` for a speed-up, ``ours_s / anchor_s`` for a time ratio."""
    if meaning not in RATIO_MEANINGS:
        raise ValueError(f"ratio_meaning must be one of {sorted(RATIO_MEANINGS)}, got {meaning!r}")
    if meaning == "speed-up":
        return anchor_s / ours_s if ours_s > 0 else math.inf
    return ours_s / anchor_s if anchor_s > 0 else math.inf


def machine(threads: str, device: str = "CPU") -> str:
    """``"<cores> cores, <threads>, <device>"``, e.g. ``"2 cores, 2 torch threads, CPU"``."""
    return f"{os.cpu_count()} cores, {threads}, {device}"


def torch_machine(device: Any = "cpu") -> str:
    """:func:`machine` for a torch benchmark: its torch thread count and the device (a GPU by name)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        where = f"GPU {torch.cuda.get_device_name(device)}"
    else:
        where = "CPU" + (" (a GPU is present, unused)" if torch.cuda.is_available() else ", no GPU")
    return machine(f"{torch.get_num_threads()} torch thread(s)", where)


def result_row(
    benchmark: str, case: str, ours_s: float, anchor: str, anchor_s: float, ratio_meaning: str, detail: str, machine: str
) -> dict[str, Any]:
    """One measured row; the ratio computed from the two times as ``ratio_meaning`` says."""
    return {
        "benchmark": benchmark, "case": case, "ours_s": float(ours_s), "anchor": anchor, "anchor_s": float(anchor_s),
        "ratio": ratio_of(float(ours_s), float(anchor_s), ratio_meaning), "ratio_meaning": ratio_meaning,
        "detail": detail, "status": "ok", "machine": machine,
    }  # fmt: skip


def unmeasured_row(benchmark: str, status: str, anchor: str, detail: str, case: str = "-") -> dict[str, Any]:
    """A row saying why nothing was measured (``status`` "failed" or "anchor missing")."""
    if status not in STATUSES[1:]:
        raise ValueError(f"status must be one of {STATUSES[1:]}, got {status!r}")
    return {
        "benchmark": benchmark, "case": case, "ours_s": None, "anchor": anchor, "anchor_s": None, "ratio": None,
        "ratio_meaning": None, "detail": detail, "status": status, "machine": machine("-"),
    }  # fmt: skip


def write_rows(path: Path | None, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as a JSON list to ``path`` (nothing when None); print each row's ratio."""
    for row in rows:
        if row["status"] == "ok":
            print(f"[{row['benchmark']}] {row['case']}: ours {row['ours_s']:.4g} s, {row['anchor']} {row['anchor_s']:.4g} s, "  # noqa: T201
                  f"{row['ratio_meaning']} {row['ratio']:.2f}")
        else:
            print(f"[{row['benchmark']}] {row['status']}: {row['detail']}")  # noqa: T201
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, indent=1) + "\n")


def exit_anchor_missing(benchmark: str, anchor: str, detail: str, json_path: Path | None) -> None:
    """Write the one "anchor missing" row and exit with :data:`EXIT_ANCHOR_MISSING`."""
    write_rows(json_path, [unmeasured_row(benchmark, "anchor missing", anchor, detail)])
    sys.exit(EXIT_ANCHOR_MISSING)


def markdown_out(out: Path | None, default: Path, smoke: bool) -> Path | None:
    """Where a benchmark writes its own Markdown: ``out``, else ``default`` -- but never the results folder in smoke mode."""
    if out is not None:
        return out
    return None if smoke else default
