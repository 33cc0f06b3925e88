"""Whether a fit shows its progress bar: the one decision, for every profile (issue #11, Console).

A fit (:class:`~tsmtl.training.loop.Trainer`) draws one tqdm bar over its epochs, with an ETA and
the monitored metric, when someone is watching: stderr is a terminal, the run is not in CI, the
process is not a worker of a fan-out (:func:`tsmtl.parallel.configure_worker` sets
:data:`PROGRESS_ENV` to ``0`` there, so parallel workers never draw bars over each other), and it
is rank 0 under ``torchrun``. The YAML ``progress`` option (``training.progress``) can only turn
the bar off; ``true`` (the default) means "when someone is watching".
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tsmtl.training import distributed

#: ``TSMTL_PROGRESS=0`` turns every bar of this process off (fan-out workers; set it yourself to
#: silence bars in a terminal).
PROGRESS_ENV = "TSMTL_PROGRESS"
_FALSE_WORDS = ("", "0", "false", "no", "off")


def _is_false(value: str) -> bool:
    return value.strip().lower() in _FALSE_WORDS


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but ``0``/``false``/empty (GitHub, GitLab set ``true``)."""
    return not _is_false(os.environ.get("CI", ""))


def show_progress(requested: bool | None = True, stream: TextIO | None = None) -> bool:
    """Whether to draw a progress bar on ``stream`` (default: ``sys.stderr``, where tqdm writes).

    Parameters
    ----------
    requested : bool or None
        The ``progress`` option: ``False`` forces the bar off; ``True`` or ``None`` leaves the
        decision to the conditions below.
    stream : file-like, optional
        The stream the bar would be drawn on.

    Returns
    -------
    bool
        ``True`` only if ``requested`` is not ``False``, ``TSMTL_PROGRESS`` is not ``0``, ``CI``
        is not set, this is the main process (rank 0 or a single process) and ``stream`` is a TTY.
    """
    if requested is not None and not requested:
        return False
    if _is_false(os.environ.get(PROGRESS_ENV, "1")):
        return False
    if in_ci() or not distributed.is_main_process():
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


__all__ = ["PROGRESS_ENV", "in_ci", "show_progress"]
