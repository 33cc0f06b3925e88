"""What a checkpoint was trained on: a digest of the data and a fingerprint of the whole run.

Every fit that checkpoints names its run folder with :func:`run_fingerprint` and hands
:func:`data_digest` to the :class:`~tsmtl.training.loop.Trainer`, which records it in
``last.pt``/``best.pt`` and refuses to resume a checkpoint whose recorded digest differs.

* :func:`data_digest` hashes the *content* of everything a fit sees -- every split (train,
  val and test), the values, labels, lengths and dataset names -- not just their shapes. Two
  splits of the same sizes drawn with different seeds, a re-downloaded file with one changed
  value, or another dataset of the same shape all give different digests.
* :func:`run_fingerprint` combines that digest with the settings (architecture, model and
  training parameters, seed, model revision) into the short folder name of the run.

The digest is BLAKE2b over the raw bytes of every array plus its dtype and shape, walked in
a fixed order (mapping keys sorted), so it is cheap (hundreds of MB/s) and independent of
dict insertion order. NaN padding hashes like any other value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from tsmtl.config import plain
from tsmtl.data.types import TimeSeriesData

#: Length of the hex digests (BLAKE2b with a 16-byte digest: 32 hex characters).
DIGEST_BYTES = 16


class StaleCheckpointError(ValueError):
    """A checkpoint was trained on other data than the run that wants to resume it."""


def _update_array(h: Any, array: np.ndarray) -> None:
    array = np.asarray(array)
    if array.dtype == object:
        # Object labels (mixed str/number) have no stable bytes: hash their text.
        array = array.astype(str)
    array = np.ascontiguousarray(array)
    h.update(f"ndarray{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())


def _update(h: Any, item: Any) -> None:
    if isinstance(item, TimeSeriesData):
        h.update(b"TimeSeriesData")
        _update(h, item.name)
        _update_array(h, item.X)
        _update_array(h, item.lengths)
        _update(h, item.y)
    elif isinstance(item, torch.Tensor):
        _update_array(h, item.detach().cpu().numpy())
    elif isinstance(item, np.ndarray):
        _update_array(h, item)
    elif isinstance(item, Mapping):
        h.update(f"mapping{len(item)}".encode())
        for key in sorted(item, key=str):
            _update(h, str(key))
            _update(h, item[key])
    elif isinstance(item, (list, tuple)):
        h.update(f"sequence{len(item)}".encode())
        for value in item:
            _update(h, value)
    elif item is None or isinstance(item, (str, int, float, bool, np.generic)):
        h.update(f"{type(item).__name__}:{item!r}".encode())
    else:
        raise TypeError(f"data_digest cannot hash a {type(item).__name__}; pass arrays, TimeSeriesData or containers of them")


def data_digest(*data: Any) -> str:
    """Content digest of everything a fit sees.

    Parameters
    ----------
    *data : TimeSeriesData, np.ndarray, torch.Tensor, or mappings / sequences of them
        E.g. ``{task: {"train": TimeSeriesData, "val": ..., "test": ...}}``. Scalars and strings
        inside the containers are hashed by value.

    Returns
    -------
    str
        32 hex characters; equal for equal content, different when any value, label, length,
        name, dtype or shape differs.
    """
    h = hashlib.blake2b(digest_size=DIGEST_BYTES)
    _update(h, list(data))
    return h.hexdigest()


def run_fingerprint(digest: str, *settings: Any, length: int = 12) -> str:
    """Folder name of a run: a hash of the data digest and every setting.

    Parameters
    ----------
    digest : str
        :func:`data_digest` of the data the run trains and is scored on.
    *settings : JSON-able values or dataclasses
        Architecture, model parameters, training configuration, seed, model revision, ...
    length : int
        Hex characters kept.
    """
    blob = json.dumps([digest, *[plain(s) for s in settings]], sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:length]


def check_resumable(recorded: str | None, expected: str, where: Any) -> None:
    """Raise :class:`StaleCheckpointError` unless ``recorded`` (from a checkpoint) is ``expected``.

    A checkpoint without a recorded digest (written before digests existed) is refused too:
    nothing says what it was trained on.
    """
    if recorded == expected:
        return
    if recorded is None:
        raise StaleCheckpointError(
            f"{where} records no data digest (it predates them), so what it was trained on is unknown; "
            f"the data now has digest {expected}. Delete the folder or resume with resume=False."
        )
    raise StaleCheckpointError(
        f"{where} was trained on data with digest {recorded}, but the data now has digest {expected}: "
        "the splits or files changed since. Refusing to resume; delete the folder or resume with resume=False."
    )


__all__ = ["StaleCheckpointError", "check_resumable", "data_digest", "run_fingerprint"]
