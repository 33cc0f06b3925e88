"""benchmarks/: the runner's table and failure rows, and every benchmark's --smoke run (issue #10).

The smoke runs prove each script still runs end to end and writes the rows of
``benchmarks/bench_common.py``; they measure nothing, and no time is asserted.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_common  # noqa: E402
import run_all  # noqa: E402

ROW_KEYS = {"benchmark", "case", "ours_s", "anchor", "anchor_s", "ratio", "ratio_meaning", "detail"}


def _row(benchmark: str, ours: float, anchor: float, meaning: str) -> dict:
    return bench_common.result_row(benchmark, f"{benchmark} case", ours, "the anchor", anchor, meaning, "a | detail", "2 cores, x, CPU")


def test_ratio_follows_its_meaning():
    assert _row("a", 2.0, 10.0, "speed-up")["ratio"] == 5.0  # anchor / ours
    assert _row("a", 2.0, 10.0, "time ratio")["ratio"] == 0.2  # ours / anchor
    assert math.isinf(bench_common.ratio_of(0.0, 1.0, "speed-up"))
    with pytest.raises(ValueError, match="ratio_meaning"):
        bench_common.ratio_of(1.0, 1.0, "faster")


def test_summary_is_one_table_with_every_row():
    rows = [_row("dtw_1nn", 4.85, 152.0, "speed-up"), _row("weighting_overhead", 0.012, 0.010, "time ratio"),
            bench_common.unmeasured_row("trep_speed", "anchor missing", "authors' code", "not found: /x")]  # fmt: skip
    text = run_all.summary_markdown(rows, "2026-01-01 10:00", "abc1234", "python benchmarks/run_all.py")
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(rows)  # header, rule, one line per row: ONE table
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == run_all.COLUMNS
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in table[2:]]
    assert cells[0][:7] == ["dtw_1nn", "dtw_1nn case", "the anchor", "4.8", "152.0", "31.34", "speed-up"]
    assert cells[1][3:7] == ["0.012", "0.01", "1.20", "time ratio"]
    assert cells[2][5:7] == ["ANCHOR MISSING", "not measured"]
    assert all(c[7] == "2026-01-01 10:00" and c[9] == "abc1234" for c in cells)
    assert "a \\| detail" in table[2]  # a pipe inside a cell does not split it


def test_rows_of_run_names_failures():
    ok = [_row("dtw_1nn", 1.0, 2.0, "speed-up")]
    assert run_all.rows_of_run("dtw_1nn", 0, ok, []) == ok
    failed = run_all.rows_of_run("dtw_1nn", 1, [], ["Traceback", "ValueError: boom", ""])
    assert failed[0]["status"] == "failed" and "exit status 1: ValueError: boom" in failed[0]["detail"]
    assert run_all.rows_of_run("dtw_1nn", 0, [], [])[0]["detail"] == "exited 0 but wrote no rows"
    missing = run_all.rows_of_run("trep_speed", bench_common.EXIT_ANCHOR_MISSING, [], ["no anchors"])
    assert missing[0]["status"] == "anchor missing"
    assert run_all.rows_of_run("x", -9, [], ["..."], timed_out=True)[0]["detail"].startswith("killed after")


def test_runner_goes_on_after_a_failure_and_exits_nonzero(tmp_path):
    """Stand-in benchmarks: one fails, one writes a row; both are in the table and the exit status is 1."""
    (tmp_path / "breaks.py").write_text("raise SystemExit('no data here')\n")
    (tmp_path / "works.py").write_text(
        "import argparse, json, sys\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "import bench_common\n"
        "p = argparse.ArgumentParser(); bench_common.add_common_arguments(p); p.add_argument('--case', default='c')\n"
        "a = p.parse_args()\n"
        "bench_common.write_rows(a.json, [bench_common.result_row('works', a.case, 1.0, 'anchor', 3.0, 'speed-up', 'd', 'm')])\n"
    )
    out = tmp_path / "summary.md"
    status = run_all.main(["--only", "breaks,works", "--out", str(out), "--benchmarks-dir", str(tmp_path)])
    assert status == 1
    text = out.read_text()
    assert "| breaks | - |" in text and "FAILED" in text and "no data here" in text
    assert "| works | c | anchor | 1.0 | 3.0 | 3.00 | speed-up |" in text
    assert run_all.main(["--only", "works", "--out", str(out), "--benchmarks-dir", str(tmp_path), "--extra", "works=--case 'e f'"]) == 0
    assert "| works | e f | anchor |" in out.read_text()  # --extra reaches the benchmark's own options


def _smoke(name: str, tmp_path: Path, *extra: str) -> tuple[int, list[dict]]:
    json_path = tmp_path / f"{name}.json"
    done = subprocess.run([sys.executable, str(BENCHMARKS / f"{name}.py"), "--smoke", "--json", str(json_path), *extra],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert json_path.is_file(), done.stdout[-2000:] + done.stderr[-3000:]
    return done.returncode, json.loads(json_path.read_text())


def test_trep_speed_without_its_anchor_writes_an_anchor_missing_row(tmp_path):
    returncode, rows = _smoke("trep_speed", tmp_path, "--anchors", str(tmp_path / "no_anchors"))
    assert returncode == bench_common.EXIT_ANCHOR_MISSING
    assert [r["status"] for r in rows] == ["anchor missing"] and "no_anchors" in rows[0]["detail"]


@pytest.mark.real_data
@pytest.mark.slow
@pytest.mark.parametrize("name", ["dtw_1nn", "weighting_overhead", "ucr_fanout", "trep_speed"])
def test_smoke_run_writes_measured_rows(name, tmp_path, real_data_dir, monkeypatch):
    if name == "trep_speed" and not (BENCHMARKS.parents[1] / "shared" / "anchors" / "bench_official.py").is_file():
        pytest.skip("the authors' T-Rep/TS2Vec code is not in ../shared/anchors")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    returncode, rows = _smoke(name, tmp_path)
    assert returncode == 0 and rows
    for row in rows:
        assert ROW_KEYS <= set(row) and row["benchmark"] == name and row["status"] == "ok"
        assert row["ratio_meaning"] in bench_common.RATIO_MEANINGS and row["ours_s"] > 0 and row["anchor_s"] > 0
        assert math.isclose(row["ratio"], bench_common.ratio_of(row["ours_s"], row["anchor_s"], row["ratio_meaning"]))
    if name == "ucr_fanout":  # one thread per worker against two: the accuracies still agree here
        assert "result rows equal" in rows[0]["detail"]
