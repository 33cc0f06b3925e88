"""Where the project finds its data (one setting, ``TSMTL_DATA_DIR``) and plain settings values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

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


def plain(value: Any) -> Any:
    """Settings as plain Python: mappings (OmegaConf's too) -> dict, tuples -> list, dataclasses -> dict.

    For JSON (checkpoint specs, fingerprints, ``meta`` records) and for comparing settings.
    """
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
