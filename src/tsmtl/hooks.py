"""Project hooks: the one place a run is seeded; under torchrun only rank 0 writes the catalog's outputs."""

from __future__ import annotations

import logging

from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset

from tsmtl.training import distributed
from tsmtl.training.device import seed_everything

log = logging.getLogger(__name__)


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
