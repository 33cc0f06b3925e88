"""Project hooks: the one place a run is seeded; under torchrun only rank 0 writes the catalog's outputs;
the console shows one short line per node and ends with the run's result tables (issue #11, Console)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset

from tsmtl.training import distributed
from tsmtl.training.device import seed_everything

log = logging.getLogger(__name__)

#: Outputs whose name ends so are Markdown reports: :class:`ConsoleHook` prints them after the run.
MARKDOWN_SUFFIX = "_markdown"


def log_files() -> list[Path]:
    """The files the configured file handlers write (``logs/tsmtl.log`` with ``conf/logging.yml``), absolute, sorted."""
    loggers = [logging.getLogger(), *(obj for obj in logging.Logger.manager.loggerDict.values() if isinstance(obj, logging.Logger))]
    return sorted({Path(h.baseFilename) for lg in loggers for h in lg.handlers if isinstance(h, logging.FileHandler)})


def create_log_folders() -> None:
    """Create the folder of every configured log file (``logs/`` is missing in a fresh copy of the project).

    ``conf/logging.yml`` opens its file at the first line (``delay: true``); this runs when Kedro imports
    :mod:`tsmtl.settings`, before the session logs anything.
    """
    for path in log_files():
        path.parent.mkdir(parents=True, exist_ok=True)


def _relative(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (``logs/tsmtl.log``), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _duration(seconds: float) -> str:
    """``0.4 s``, ``37 s``, ``4 min 12 s``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class SeedHook:
    """Seeds Python, NumPy and torch from the ``seed`` parameter before any node runs."""

    @hook_impl
    def after_context_created(self, context) -> None:
        seed = int(context.params.get("seed", 0))
        seed_everything(seed)
        log.info("tsmtl: seeded python/numpy/torch with %d", seed)


class DistributedOutputsHook:
    """Under ``torchrun`` only rank 0 writes the pipeline's outputs (issue #10).

    Every rank runs the whole pipeline (``torchrun ... -m kedro run --pipelines <name>``; the
    Trainer shards each fit's batches over the ranks, :mod:`tsmtl.training.distributed`). Before the
    run, on ranks > 0 (``RANK`` from the environment) every dataset the pipeline outputs is replaced
    in the catalog by a :class:`~kedro.io.MemoryDataset`, so those ranks pass results between their
    nodes in memory and write no file; inputs are still read from the catalog. A single-process run
    (``RANK`` unset or 0) is untouched.
    """

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        if distributed.is_main_process():
            return
        outputs = sorted(pipeline.all_outputs())
        for name in outputs:
            catalog[name] = MemoryDataset()
        log.info("tsmtl: rank %d keeps the %d pipeline outputs in memory", distributed.rank(), len(outputs))


class ConsoleHook:
    """What a ``kedro run`` prints on the console besides warnings (issue #11, Console).

    ``conf/logging.yml`` sends Kedro's INFO lines (catalog I/O, ``Running node: f([inputs]) ->
    [outputs]``, ``Completed 3 out of 11 tasks``) to ``logs/tsmtl.log`` only; in their place this hook
    logs one line when the run starts (nodes, environment, log file), one short line per node
    (``[3/11] embedded_mtl.fit_methods``, then its duration) and one when it ends, and then prints
    every Markdown report the run produced: the pipeline's outputs named ``*_markdown`` (in the
    order their nodes ran), loaded from the catalog (the version just saved), rendered with rich's
    Markdown at the console's width. Under ``torchrun`` only rank 0 speaks.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._started: dict[str, tuple[int, float]] = {}
        self._run_started = 0.0

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._total = len(pipeline.nodes)
        self._started = {}
        self._run_started = time.perf_counter()
        if not distributed.is_main_process():
            return
        names = ",".join(run_params.get("pipeline_names") or ["__default__"])
        env = f" (env {run_params['env']})" if run_params.get("env") else ""
        files = log_files()
        where = f"; log: {_relative(files[0])}" if files else ""
        log.info("run %s%s: %d nodes%s", names, env, self._total, where)

    @hook_impl
    def before_node_run(self, node) -> None:
        with self._lock:
            index = len(self._started) + 1
            self._started[node.name] = (index, time.perf_counter())
        if distributed.is_main_process():
            log.info("[%d/%d] %s ...", index, self._total, node.name)

    @hook_impl
    def after_node_run(self, node) -> None:
        with self._lock:
            index, started = self._started.get(node.name, (0, time.perf_counter()))
        if distributed.is_main_process():
            log.info("[%d/%d] %s: %s", index, self._total, node.name, _duration(time.perf_counter() - started))

    @hook_impl
    def after_pipeline_run(self, run_params, pipeline, catalog) -> None:
        if not distributed.is_main_process():
            return
        log.info("finished %d nodes in %s", self._total, _duration(time.perf_counter() - self._run_started))
        for name in markdown_outputs(pipeline):
            try:
                text = catalog.load(name)
            except Exception as error:  # a report the run did not write (e.g. an --only-missing-outputs run)
                log.warning("cannot print %s: %s", name, error)
                continue
            print_markdown(name, str(text))


def markdown_outputs(pipeline) -> list[str]:
    """The pipeline's outputs named ``*_markdown``, in the order of its (topologically sorted) nodes."""
    names: list[str] = []
    for node in pipeline.nodes:
        names.extend(name for name in node.outputs if name.endswith(MARKDOWN_SUFFIX) and name not in names)
    return names


def print_markdown(name: str, text: str) -> None:
    """Print one Markdown report under a rule naming its dataset, with rich at the console's width (stdout)."""
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console()  # stdout; width from the terminal or COLUMNS
    console.print()
    console.rule(name, style="dim")
    console.print(Markdown(text))
