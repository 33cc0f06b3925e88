"""Where the project finds its data: one setting, ``TSMTL_DATA_DIR``."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "TSMTL_DATA_DIR"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The root of the real datasets.

    Order: an explicit ``path``; else ``$TSMTL_DATA_DIR``; else ``../shared/data``
    relative to the current directory (a checkout with ``shared/`` beside it).
    The path is returned whether or not it exists; readers raise a clear error.
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path("..") / "shared" / "data"
