"""Fetch the PhysioNet/CinC Challenge 2019 sepsis training sets, one ``.psv`` per patient.

The patient list is read from PhysioNet's HTML index of each set folder
(:data:`~tsmtl.data.download.sources.PHYSIONET_BASE_URL`); the files are fetched in
parallel, each checked for the 41-column header, and a re-run resumes an interrupted
download. Serves T-Rep's anomaly-detection experiment on Sepsis (read by
:mod:`tsmtl.data.physionet`); split out of ``tsmtl/data/download.py`` by issue #11
("Layout").
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tsmtl.data.download.http import DownloadError, download_file, open_url
from tsmtl.data.download.sources import PHYSIONET_BASE_URL, PHYSIONET_SETS
from tsmtl.data.errors import DataFormatError

logger = logging.getLogger(__name__)

__all__ = ["PHYSIONET_N_COLUMNS", "download_physionet2019"]

PHYSIONET_N_COLUMNS = 41  # 40 variables + SepsisLabel (Reyna et al. 2020, Table 1)


def _check_psv(path_label: str) -> Callable[[Path], None]:
    def check(path: Path) -> None:
        with open(path, encoding="utf-8", errors="replace") as fh:
            header = fh.readline().rstrip("\r\n").split("|")
        if len(header) != PHYSIONET_N_COLUMNS or header[-1] != "SepsisLabel":
            raise DataFormatError(
                path_label,
                f"expected a {PHYSIONET_N_COLUMNS}-column '|' header ending in SepsisLabel, "
                f"got {len(header)} columns ending in {header[-1][:40]!r}",
                line=1,
            )

    return check


def _list_psv(index_url: str, timeout: float) -> list[str]:
    with open_url(index_url, timeout) as resp:
        html = resp.read().decode("utf-8", errors="replace")
    # Links of the form href="p000001.psv" (PhysioNet) or href="p000001.psv?download".
    return sorted(set(re.findall(r'href="(?:[^"]*/)?(p\d+\.psv)(?:\?[^"]*)?"', html)))


def download_physionet2019(
    dest: str | os.PathLike,
    base_url: str = PHYSIONET_BASE_URL,
    sets: Iterable[str] = ("A",),
    overwrite: bool = False,
    timeout: float = 60,
    max_patients: int | None = None,
    workers: int = 8,
) -> Path:
    """Download the PhysioNet/CinC 2019 sepsis training set(s), one ``.psv`` per patient.

    The patient list is read from PhysioNet's HTML index of
    ``<base_url>/training_setA/``; each file is fetched from
    ``<base_url>/training_setA/<pid>.psv`` (the published layout: set A holds
    20,336 patients ``p000001 ...``, set B 20,000 patients ``p100001 ...``).

    Parameters
    ----------
    dest : path
        Folder that receives ``training_setA/`` (and/or ``training_setB/``).
    base_url : str
        Folder URL holding ``training_setA/`` and ``training_setB/``.
    sets : iterable of {"A", "B"}, default ("A",)
    overwrite : bool, default False
        Files already present with a valid header are kept (a re-run resumes an
        interrupted download); a present file with a bad header raises
        :class:`FileExistsError` unless True.
    timeout : float, default 60
    max_patients : int, optional
        Fetch only the first ``max_patients`` patients of each set (sorted by id).
    workers : int, default 8
        Parallel HTTP requests (the files are small; the work is network-bound).

    Returns
    -------
    Path
        ``dest``. Each file is a 41-column ``|``-separated table (40 variables and
        ``SepsisLabel``), one row per ICU hour.
    """
    dest = Path(dest)
    base = base_url.rstrip("/")
    for letter in sets:
        if letter not in PHYSIONET_SETS:
            raise ValueError(f"unknown training set {letter!r}; choose from {sorted(PHYSIONET_SETS)}")
        folder = PHYSIONET_SETS[letter]
        index_url = f"{base}/{folder}/"
        names = _list_psv(index_url, timeout)
        if not names:
            raise DownloadError(index_url, f"no pNNNNNN.psv files are listed at {index_url}")
        if max_patients is not None:
            names = names[:max_patients]
        out = dest / folder

        def fetch(file_name: str, out: Path = out, folder: str = folder) -> Path:
            target = out / file_name
            check = _check_psv(f"{folder}/{file_name}")
            if target.exists() and not overwrite:
                try:
                    check(target)
                    return target  # already downloaded (resume)
                except DataFormatError as err:
                    raise FileExistsError(f"{target} exists but is not valid ({err}); "
                                          "pass overwrite=True to fetch it again") from err  # fmt: skip
            return download_file(f"{base}/{folder}/{file_name}", target, overwrite=overwrite,
                                 timeout=timeout, validate=check)  # fmt: skip

        logger.info("fetching %d patient files of %s from %s", len(names), folder, index_url)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(fetch, names))  # re-raises the first failure
    return dest
