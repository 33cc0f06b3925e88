"""Epoch-end events of the Trainer: who wants every epoch record gets it (issue #11, Experiment tracking).

:class:`tsmtl.training.loop.Trainer` calls :func:`emit_epoch` once per epoch, after the epoch record
is complete (training means, validation metrics, ``seconds``), on the main process only
(:func:`tsmtl.training.distributed.is_main_process`). A listener is any callable
``listener(record, context)``:

* ``record`` -- ``dict[str, float]``: ``epoch`` (0-based), ``train_loss``, ``train_<log>``, the
  ``evaluate_fn`` metrics (``val_accuracy``...), ``seconds``; the same dict the Trainer keeps in its
  history, so a listener must not modify it;
* ``context`` -- the emitting fit (the :class:`~tsmtl.training.loop.Trainer`): ``progress_label``
  names it (``split_0/resnet2d_mtl/Embedded``), ``epochs`` is its total number of epochs; one fit
  is one object, so a listener can tell two fits with the same label apart.

The library knows nothing of who listens: :mod:`tsmtl.tracking` registers the MLflow listener for
the length of a Kedro run. Listeners live in this process only: fits in a fan-out worker process
(:mod:`tsmtl.parallel`) emit to that process's listeners (none), not to the parent's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

EpochListener = Callable[[Mapping[str, float], Any], None]

_listeners: list[EpochListener] = []
_lock = threading.Lock()


def add_epoch_listener(listener: EpochListener) -> Callable[[], None]:
    """Call ``listener(record, context)`` at the end of every epoch of every fit; returns its removal.

    Examples
    --------
    >>> remove = add_epoch_listener(lambda record, context: print(record["epoch"], record["train_loss"]))
    >>> remove()  # no more calls
    """
    with _lock:
        _listeners.append(listener)
    return lambda: remove_epoch_listener(listener)


def remove_epoch_listener(listener: EpochListener) -> None:
    """Stop calling ``listener`` (nothing happens when it is not registered)."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def emit_epoch(record: Mapping[str, float], context: Any) -> None:
    """Hand one finished epoch record of the fit ``context`` to every listener, in registration order.

    A listener's exception propagates to the fit: a listener that must never stop training catches
    its own errors.
    """
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(record, context)
