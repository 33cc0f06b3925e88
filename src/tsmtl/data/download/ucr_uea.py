"""Fetch UCR (univariate) and UEA (multivariate) classification problems as aeon does.

One zip per problem from the archive's server (:data:`~tsmtl.data.download.sources.UCR_BASE_URL`),
installed as ``<dest>/<Name>/<Name>_TRAIN.<ext>`` and ``_TEST.<ext>``, the layout aeon's
readers and :mod:`tsmtl.data.ucr` / :mod:`tsmtl.data.uea` read. The UCR problems serve
the ResNet2D-MTL experiments and ForeClassNet Sec. 5.1 (ECG5000); the UEA problems
T-Rep's classification experiments. Split out of ``tsmtl/data/download.py`` by issue #11
("Layout").
"""

from __future__ import annotations

import difflib
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from tsmtl.data.download.extract import move_tree, require_zip, safe_extract, staging_dir
from tsmtl.data.download.http import download_file
from tsmtl.data.download.sources import UCR_BASE_URL, UEA_BASE_URL
from tsmtl.data.errors import DataFormatError

logger = logging.getLogger(__name__)

__all__ = ["download_ucr", "download_uea"]


def _check_archive_name(name: str, known: Iterable[str], archive: str) -> None:
    known = list(known)
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"{name!r} is not a dataset of the {archive} archive (aeon's list).{hint}")


def _split_files(folder: Path, name: str) -> dict[str, list[Path]]:
    return {
        split: sorted(folder.glob(f"{name}_{split}.*")) for split in ("TRAIN", "TEST")
    }


def _download_tsc_zip(name: str, dest: Path, base_url: str, overwrite: bool, timeout: float) -> Path:
    """Fetch ``<base_url>/<name>.zip`` and install it as ``<dest>/<name>/<name>_TRAIN/TEST.*``.

    Why not ``aeon.datasets.download_dataset``: in aeon 1.6 it builds the URL from a
    hard-coded ``"https://timeseriesclassification.com/aeon-toolkit/"`` (no way to point it
    at another server), reads the whole body into memory, and unpacks with
    ``ZipFile.extractall`` without a checksum or overwrite check. This function fetches
    the same URL and produces the same layout aeon does (aeon unpacks the zip into
    ``<save_path>/<name>/`` and then reads ``<save_path>/<name>/<name>_TRAIN.ts``, i.e.
    the files sit at the root of the zip); a zip whose files sit in a ``<name>/`` folder
    is accepted too.
    """
    target = dest / name
    present = _split_files(target, name)
    if present["TRAIN"] and present["TEST"] and not overwrite:
        logger.info("%s already has %s train and test files; not downloading", target, name)
        return target
    url = f"{base_url.rstrip('/')}/{quote(name)}.zip"
    staging = staging_dir(dest)
    try:
        zip_path = download_file(url, staging / f"{name}.zip", timeout=timeout, validate=require_zip(url))
        unpacked = staging / "unpacked"
        safe_extract(zip_path, unpacked)
        root = unpacked
        if not _split_files(root, name)["TRAIN"] and (unpacked / name).is_dir():
            root = unpacked / name
        found = _split_files(root, name)
        missing = [split for split, files in found.items() if not files]
        if missing:
            raise DataFormatError(
                url, f"the zip has no {name}_{'/'.join(missing)} file(s) at its root or in {name}/"
            )
        move_tree(root, target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def download_ucr(
    name: str,
    dest: str | os.PathLike,
    base_url: str = UCR_BASE_URL,
    overwrite: bool = False,
    timeout: float = 60,
) -> Path:
    """Download one UCR (univariate) problem as aeon does.

    Parameters
    ----------
    name : str
        Problem name from aeon's ``aeon.datasets.tsc_datasets.univariate`` (the
        128 UCR 2018 problems), e.g. ``"ECG200"``.
    dest : path
        Folder that receives ``<name>/``.
    base_url : str
        Server that holds ``<name>.zip``; default the official one.
    overwrite : bool, default False
        Existing train and test files are returned untouched unless True.
    timeout : float, default 60

    Returns
    -------
    Path
        ``<dest>/<name>``, holding ``<name>_TRAIN.<ext>`` and ``<name>_TEST.<ext>``
        (``.ts``, ``.tsv``, ``.arff`` as the zip provides) plus any other files of the zip.
    """
    from aeon.datasets.tsc_datasets import univariate

    _check_archive_name(name, univariate, "UCR")
    return _download_tsc_zip(name, Path(dest), base_url, overwrite, timeout)


def download_uea(
    name: str,
    dest: str | os.PathLike,
    base_url: str = UEA_BASE_URL,
    overwrite: bool = False,
    timeout: float = 60,
) -> Path:
    """Download one UEA (multivariate) problem; same as :func:`download_ucr`.

    ``name`` must be in aeon's ``aeon.datasets.tsc_datasets.multivariate`` (30 problems).
    Returns ``<dest>/<name>`` with ``<name>_TRAIN.ts`` and ``<name>_TEST.ts``.
    """
    from aeon.datasets.tsc_datasets import multivariate

    _check_archive_name(name, multivariate, "UEA")
    return _download_tsc_zip(name, Path(dest), base_url, overwrite, timeout)
