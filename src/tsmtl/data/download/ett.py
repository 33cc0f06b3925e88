"""Fetch the ETT electricity-transformer csv files (Zhou et al. 2021).

``<dest>/<name>.csv`` for ETTh1, ETTh2, ETTm1, ETTm2 from the official GitHub folder
(:data:`~tsmtl.data.download.sources.ETT_BASE_URL`), verified against the known SHA-256
(ETTh1/ETTh2) or, where none is known, against the ETT header. Serves T-Rep's
forecasting experiment; split out of ``tsmtl/data/download.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from tsmtl.data.download.http import download_file
from tsmtl.data.download.sources import ETT_BASE_URL, ETT_SHA256
from tsmtl.data.errors import DataFormatError

logger = logging.getLogger(__name__)

__all__ = ["ETT_HEADER", "download_ett"]

#: First line of every ETT csv file.
ETT_HEADER = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT"


def _check_ett_header(label: str) -> Callable[[Path], None]:
    def check(path: Path) -> None:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = fh.readline().strip().lstrip("\ufeff")
        if first != ETT_HEADER:
            raise DataFormatError(label, f"expected header {ETT_HEADER!r}, got {first[:80]!r}", line=1)

    return check


def download_ett(
    name: str,
    dest: str | os.PathLike,
    base_url: str = ETT_BASE_URL,
    overwrite: bool = False,
    timeout: float = 60,
) -> Path:
    """Download one ETT file (Zhou et al. 2021; T-Rep's forecasting experiment).

    Parameters
    ----------
    name : {"ETTh1", "ETTh2", "ETTm1", "ETTm2"}
    dest : path
        Folder; the file is written as ``<dest>/<name>.csv``.
    base_url : str
        Folder URL holding ``<name>.csv``; default the official GitHub raw folder.
    overwrite : bool, default False
    timeout : float, default 60

    Returns
    -------
    Path
        ``<dest>/<name>.csv``: hourly (ETTh, 17,420 rows) or 15-minute (ETTm, 69,680
        rows) records, columns ``date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT``.

    Notes
    -----
    ETTh1/ETTh2 are verified against their known SHA-256 (:data:`ETT_SHA256`). For
    ETTm1/ETTm2 no upstream checksum is known; only the header is checked, and an
    existing file with the right header is kept as is.
    """
    if name not in ETT_SHA256:
        raise ValueError(f"unknown ETT file {name!r}; choose one of {sorted(ETT_SHA256)}")
    target = Path(dest) / f"{name}.csv"
    digest = ETT_SHA256[name]
    if digest is None and target.exists() and not overwrite:
        _check_ett_header(str(target))(target)
        logger.info("%s exists (no checksum known for %s); not downloading", target, name)
        return target
    url = f"{base_url.rstrip('/')}/{name}.csv"
    return download_file(url, target, sha256=digest, overwrite=overwrite, timeout=timeout,
                         validate=_check_ett_header(url))  # fmt: skip
