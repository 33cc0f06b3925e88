"""Project hooks: the one place a run is seeded."""

from __future__ import annotations

import logging

from kedro.framework.hooks import hook_impl

from tsmtl.training.device import seed_everything

log = logging.getLogger(__name__)


class SeedHook:
    """Seeds Python, NumPy and torch from the ``seed`` parameter before any node runs."""

    @hook_impl
    def after_context_created(self, context) -> None:
        seed = int(context.params.get("seed", 0))
        seed_everything(seed)
        log.info("tsmtl: seeded python/numpy/torch with %d", seed)
