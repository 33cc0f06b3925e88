"""The console of a run (issue #11, Console): what ``kedro run`` prints, what goes to ``logs/``, and the progress bars.

* a real ``kedro run`` of a tiny pipeline in a fresh project copy (no ``logs/`` folder): no catalog
  I/O lines and no OmegaConf deprecation warning on the console, Kedro's lines and the epoch
  records in ``logs/tsmtl.log``, the run's Markdown report printed once, after every log line;
* :func:`tsmtl.training.progress.show_progress`: a bar only on a terminal, not in CI, not when
  the option is off, not in a fan-out worker, not on ranks > 0;
* the Trainer's bar: one per fit, over its epochs, with the ETA and the monitored metric.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy
from tests.toy_fit import toy_fit
from tsmtl.hooks import markdown_outputs
from tsmtl.parallel import FanOut, run_jobs
from tsmtl.training.progress import PROGRESS_ENV, show_progress

MARKDOWN = "embedded_mtl.ucr_mtl_accuracy_markdown"
LOG_LINE = re.compile(r"^(\[\d\d:\d\d:\d\d\])?\s+(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s")


class Terminal(io.StringIO):
    """A stream that says it is a terminal (what tqdm draws on is kept for inspection)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def watched(monkeypatch):
    """No CI, no TSMTL_PROGRESS, one process: the conditions under which a bar is drawn."""
    for variable in ("CI", PROGRESS_ENV, "RANK", "WORLD_SIZE"):
        monkeypatch.delenv(variable, raising=False)


def test_a_bar_is_drawn_only_on_a_terminal_outside_ci_unless_turned_off(watched, monkeypatch):
    assert show_progress(True, Terminal())
    assert show_progress(None, Terminal())  # no option given: the same decision
    assert not show_progress(False, Terminal())  # the YAML option forces it off
    assert not show_progress(True, io.StringIO())  # piped to a file
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert show_progress(True)  # stderr by default (tqdm's stream)
    monkeypatch.setenv("CI", "true")
    assert not show_progress(True, Terminal())
    monkeypatch.setenv("CI", "false")
    assert show_progress(True, Terminal())
    monkeypatch.setenv(PROGRESS_ENV, "0")
    assert not show_progress(True, Terminal())
    monkeypatch.delenv(PROGRESS_ENV)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert not show_progress(True, Terminal())  # torchrun: rank 0 alone draws
    monkeypatch.setenv("RANK", "0")
    assert show_progress(True, Terminal())


def progress_in_worker(_: int) -> tuple[str | None, bool]:
    """Module level (picklable): what a fan-out worker decides for a terminal."""
    return os.environ.get(PROGRESS_ENV), show_progress(True, Terminal())


def test_fan_out_workers_draw_no_bar(watched):
    results = run_jobs(progress_in_worker, [0, 1], FanOut(n_jobs=2, threads_per_worker=1))
    assert results == [("0", False), ("0", False)]
    assert show_progress(True, Terminal())  # this process is untouched


def _fit(progress: bool, epochs: int = 3) -> None:
    toy_fit(epochs=epochs, progress=progress)


def test_a_fit_draws_one_bar_over_its_epochs_with_eta_and_metric(watched, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _fit(progress=True, epochs=3)
    drawn = [frame for frame in terminal.getvalue().split("\r") if frame.strip()]
    assert drawn[0].startswith("toy 0/3 |")  # one bar, over the epochs (not the batches)
    assert any(frame.startswith("toy 3/3 |") for frame in drawn)
    assert all(frame.startswith("toy ") for frame in drawn)
    assert "ETA" in drawn[-1] and "val_accuracy=" in drawn[-1] and "loss=" in drawn[-1]

    off = Terminal()
    monkeypatch.setattr(sys, "stderr", off)
    _fit(progress=False)
    assert off.getvalue() == ""


@pytest.mark.slow
def test_kedro_run_prints_short_lines_logs_the_rest_and_ends_with_its_table(tmp_path):
    project = make_project_copy(tmp_path)
    assert not (project / "logs").exists()  # the file handler must create it
    command = [
        sys.executable, "-m", "kedro", "run", "--pipelines", "embedded_mtl", "--env", "test",
        "--to-outputs", MARKDOWN, "--params", "embedded_mtl.select=1nn_dtw resnet1d_mtl",
    ]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if key not in ("CI", PROGRESS_ENV)}
    run = subprocess.run(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
        env={**environment, "COLUMNS": "80"},
    )  # fmt: skip
    console = run.stdout
    assert run.returncode == 0, console[-3000:]
    lines = console.splitlines()

    # the console: no catalog I/O, no Kedro node lines, no OmegaConf warning, no epoch records
    for noise in ("Loading data from", "Saving data to", "Running node:", "register_new_resolver", "epoch 1/1"):
        assert noise not in console, noise
    assert "Logging error" not in console and "Traceback" not in console
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert any("[5/5] embedded_mtl.build_accuracy_report" in line for line in lines)

    # the file log holds what the console left out
    log = (project / "logs" / "tsmtl.log").read_text()
    assert "kedro.io.data_catalog: Loading data from embedded_classification" in log
    assert "kedro.io.data_catalog: Saving data to embedded_mtl.ucr_mtl_accuracy_markdown" in log
    assert re.search(r"tsmtl\.training\.loop\.epochs: \S*resnet1d_mtl/Embedded: epoch 1/1: train_loss=", log)
    assert "register_new_resolver" not in log

    # the report, once, after the last log line, with its title and every method's column
    rules = [index for index, line in enumerate(lines) if MARKDOWN in line and "─" in line]
    assert len(rules) == 1
    finished = max(index for index, line in enumerate(lines) if LOG_LINE.match(line))
    assert "finished 5 nodes" in lines[finished] and finished < rules[0]
    table = "\n".join(lines[rules[0] + 1 :])
    markdown = latest_version(project / "data" / "08_reporting" / "embedded_mtl.ucr_mtl_accuracy.md").read_text()
    title = markdown.splitlines()[0].removeprefix("# ").strip()
    assert title in table
    for heading in ("Group", "Task", "1NN-DTW", "ResNet1D", "w/ MTL", "GunPoint", "ArrowHead"):
        assert heading in table, heading


def test_the_reports_are_the_markdown_outputs_in_node_order():
    from kedro.pipeline import Node, Pipeline

    def identity(value):
        return value

    pipeline = Pipeline([
        Node(identity, "b_markdown", "c_markdown", name="second"),
        Node(identity, "a", "b_markdown", name="first"),
        Node(identity, "a", "a_report", name="other"),
    ])  # fmt: skip
    assert markdown_outputs(pipeline) == ["b_markdown", "c_markdown"]
