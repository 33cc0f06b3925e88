"""Fan-out of independent runs over processes or a Dask cluster (issue #10).

An experiment such as the ResNet2D paper's Table I is tasks x methods x split seeds of
independent fits: embarrassingly parallel. :func:`run_jobs` maps one picklable function over a
list of picklable jobs on an existing engine:

* ``backend: processes`` -- a :class:`concurrent.futures.ProcessPoolExecutor` of ``n_jobs``
  workers started with ``spawn`` (a forked child of a process that already ran torch's OpenMP
  pool can deadlock), each limited to ``threads_per_worker`` torch/numba/BLAS threads so that
  workers x threads = cores (default: ``cpu_count // n_jobs``, at least 1);
* ``backend: dask`` -- the same map submitted to Dask distributed (``pip install
  "tsmtl[dask]"``): to the scheduler at ``dask_address`` (``tcp://host:8786``, a cluster of many
  machines started with ``dask scheduler`` / ``dask worker``), or to a ``LocalCluster`` of
  ``n_jobs`` single-threaded worker processes when no address is given. Kedro's documented Dask
  pattern distributes *nodes*; here the parallel work is inside one node (its fits), so the node
  submits its fits to the cluster itself and the Kedro run stays one ordinary session.

``n_jobs: 1`` (the default) runs the jobs in this process, in order, with no pool: exactly the
code path of a sequential run. Under ``torchrun`` (``WORLD_SIZE > 1``) every rank must run the
same fits in the same order, so the fan-out is turned off there.

Results come back in the order of ``jobs`` whatever order the workers finish in. A job's
exception is re-raised in the caller, naming the job.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)

Job = TypeVar("Job")
Result = TypeVar("Result")

BACKENDS = ("processes", "dask")


@dataclass(frozen=True)
class FanOut:
    """How :func:`run_jobs` spreads jobs (the ``fanout:`` block of a pipeline's parameters).

    Attributes
    ----------
    n_jobs : int
        Parallel workers; 1 runs in-process and sequentially; -1 is one per CPU core.
    backend : {"processes", "dask"}
    threads_per_worker : int or None
        torch/numba/BLAS threads in each worker; None: ``cpu_count // n_jobs`` (at least 1).
    dask_address : str or None
        Scheduler of an existing Dask cluster; None starts a local cluster for the run.
    """

    n_jobs: int = 1
    backend: str = "processes"
    threads_per_worker: int | None = None
    dask_address: str | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"fanout.backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.n_jobs == 0 or self.n_jobs < -1:
            raise ValueError(f"fanout.n_jobs must be >= 1 or -1 (one per core), got {self.n_jobs}")
        if self.threads_per_worker is not None and self.threads_per_worker < 1:
            raise ValueError(f"fanout.threads_per_worker must be >= 1, got {self.threads_per_worker}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> FanOut:
        """From YAML; unknown keys are refused (a typo must not silently run sequentially)."""
        params = dict(params or {})
        unknown = sorted(set(params) - {"n_jobs", "backend", "threads_per_worker", "dask_address"})
        if unknown:
            raise ValueError(f"unknown fanout keys {unknown}; use n_jobs, backend, threads_per_worker, dask_address")
        threads = params.get("threads_per_worker")
        return cls(
            n_jobs=int(params.get("n_jobs", 1)),
            backend=str(params.get("backend", "processes")),
            threads_per_worker=None if threads is None else int(threads),
            dask_address=params.get("dask_address"),
        )

    def workers(self, n_jobs_total: int) -> int:
        """Workers actually used for ``n_jobs_total`` jobs (1 under torchrun)."""
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            return 1
        wanted = (os.cpu_count() or 1) if self.n_jobs == -1 else self.n_jobs
        return max(1, min(wanted, n_jobs_total))

    def threads(self, workers: int) -> int:
        """Threads per worker: the configured number, else cores shared evenly among the workers."""
        if self.threads_per_worker is not None:
            return self.threads_per_worker
        return max(1, (os.cpu_count() or 1) // max(1, workers))


def _exit_with_parent(parent: int) -> None:
    """Poll the parent's pid: a worker orphaned by a killed run exits instead of finishing its fit."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def configure_worker(threads: int, log_level: int = logging.INFO, parent: int | None = None) -> None:
    """Limit a worker process to ``threads`` threads (torch intra-op, numba, OpenMP/BLAS) and set up its logging.

    Runs in every worker before its first job (the pool initializer; ``Client.run`` on Dask).
    With ``parent`` (the process pool's owner) the worker exits as soon as that process is gone:
    a run stopped with ``kill`` leaves no fit running on (``concurrent.futures`` would let each
    worker finish its current job first). Workers draw no progress bar (``TSMTL_PROGRESS=0``,
    :mod:`tsmtl.training.progress`): several bars on one console would overwrite each other.
    """
    from tsmtl.training.progress import PROGRESS_ENV

    os.environ[PROGRESS_ENV] = "0"
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="exit-with-parent").start()
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[variable] = str(threads)
    import torch

    torch.set_num_threads(threads)
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:  # numba comes with aeon; a bare install may lack it
        pass
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(processName)s %(name)s: %(message)s")
    logging.getLogger("tsmtl").setLevel(log_level)


def _describe(job: Any, describe: Callable[[Any], str] | None) -> str:
    return describe(job) if describe is not None else repr(job)[:200]


def run_jobs(
    function: Callable[[Job], Result],
    jobs: Sequence[Job],
    fanout: FanOut | None = None,
    *,
    describe: Callable[[Job], str] | None = None,
) -> list[Result]:
    """``[function(job) for job in jobs]``, spread as ``fanout`` says; results in the order of ``jobs``.

    Parameters
    ----------
    function : callable
        A module-level function (picklable by reference, for the process and Dask backends).
    jobs : sequence
        Picklable jobs. Submitted in this order: put the longest first for a balanced finish.
    fanout : FanOut, optional
        Default: sequential, in this process.
    describe : callable ``job -> str``, optional
        Names a failed job in the error.

    Raises
    ------
    RuntimeError
        A job failed; the job is named and the worker's exception is chained.
    """
    fanout = fanout or FanOut()
    jobs = list(jobs)
    workers = fanout.workers(len(jobs))
    if workers == 1 and fanout.dask_address is None:
        return [function(job) for job in jobs]
    threads = fanout.threads(workers)
    log.info("fan-out: %d jobs on %d %s workers x %d threads", len(jobs), workers, fanout.backend, threads)
    if fanout.backend == "dask":
        return _run_dask(function, jobs, fanout, workers, threads, describe)
    context = multiprocessing.get_context("spawn")
    level = logging.getLogger("tsmtl").getEffectiveLevel()  # the workers log what this process's tsmtl loggers would
    with ProcessPoolExecutor(workers, mp_context=context, initializer=configure_worker, initargs=(threads, level, os.getpid())) as pool:
        futures = [pool.submit(function, job) for job in jobs]
        results = _collect(futures, jobs, describe, concurrent.futures.as_completed, lambda: [f.cancel() for f in futures])
    return results


def _collect(
    futures: list[Any],
    jobs: list[Any],
    describe: Callable[[Any], str] | None,
    as_completed: Callable[[list[Any]], Any],
    cancel: Callable[[], Any],
) -> list[Any]:
    """The futures' results in job order, gathered as they finish; one progress bar over the finished jobs.

    The bar (with an ETA) is drawn when :func:`tsmtl.training.progress.show_progress` says someone is
    watching: the fits in the workers draw none. The first failed job cancels the rest.
    """
    from tqdm.auto import tqdm

    from tsmtl.training.progress import show_progress

    position = {future: index for index, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    with tqdm(total=len(futures), desc="fits", unit="fit", disable=not show_progress(True)) as bar:
        for future in as_completed(futures):
            index = position[future]
            try:
                results[index] = future.result()
            except Exception as error:
                cancel()
                raise RuntimeError(f"job {_describe(jobs[index], describe)} failed: {error}") from error
            bar.update(1)
    return results


def _run_dask(
    function: Callable[[Job], Result],
    jobs: list[Job],
    fanout: FanOut,
    workers: int,
    threads: int,
    describe: Callable[[Job], str] | None,
) -> list[Result]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ImportError('fanout.backend "dask" needs Dask distributed: pip install "tsmtl[dask]"') from error
    cluster = None
    if fanout.dask_address:
        client = Client(fanout.dask_address)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        client.run(configure_worker, threads, logging.getLogger("tsmtl").getEffectiveLevel())
        from distributed import as_completed

        futures = client.map(function, jobs, pure=False)
        return _collect(futures, jobs, describe, as_completed, lambda: client.cancel(futures))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


__all__ = ["BACKENDS", "FanOut", "configure_worker", "run_jobs"]
