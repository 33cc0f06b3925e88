"""Download whole dataset families into the layout of ``shared/data``, returning their manifest.

Each function fetches one family into ``<dest>/<family folder>/`` through
:func:`tsmtl.data.download.dispatch.fetch`, so that ``export TSMTL_DATA_DIR=<dest>``
points the ingest pipelines at the downloaded copy (see ``shared/data/SOURCES.md``):

====================  ===========================================================
family                files under ``<dest>``
====================  ===========================================================
UCR                   ``ucr/<Name>/<Name>_TRAIN.<ext>``, ``_TEST.<ext>``
UEA                   ``uea/<Name>/<Name>_TRAIN.ts``, ``_TEST.ts``
ETT                   ``ett/<name>.csv``
PhysioNet 2019        ``physionet2019_sepsis/training_setA/*.psv`` and, packed from it,
                      ``physionet2019_sepsis/training_setA.tar.gz`` (what the catalog reads)
Kaggle stocks         ``stocks/<dataset slug>/...`` as Kaggle ships it, plus
                      ``stocks/individual_stocks_5yr.tar.gz`` and ``stocks/earnings_latest.csv``
                      when the downloaded files hold them
Yahoo S5              ``yahoo_s5/ydata-labeled-time-series-anomalies-v1_0/`` (the user's copy)
====================  ===========================================================

Every function returns the manifest table of :mod:`tsmtl.data.download.manifest` (one row
per file; one per folder for the thousands of PhysioNet patient files). A failed item does
not stop the others of the same family; after the last one :class:`DownloadsFailed` lists
every failure with its URL. These are what the ``download_*`` and ``register_yahoo``
pipelines run (ResNet2D-MTL, ForeClassNet and T-Rep data); moved down from
``tsmtl/pipelines/downloads.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tsmtl.data.download.dispatch import fetch
from tsmtl.data.download.http import sha256_of_file
from tsmtl.data.download.manifest import (
    ALREADY_PRESENT,
    DOWNLOADED,
    DownloadsFailed,
    Row,
    collect_manifest,
    fetched_rows,
    file_rows,
    folder_row,
    manifest_frame,
    published_sha256,
    snapshot,
    status_between,
)
from tsmtl.data.download.sources import PHYSIONET_SETS, YAHOO_S5_DIRNAME, source_for

log = logging.getLogger(__name__)

__all__ = [
    "FAMILY_FOLDERS",
    "DownloadsFailed",
    "arrange_stock_files",
    "download_family",
    "download_kaggle_stocks",
    "download_physionet_sets",
    "install_yahoo_s5",
    "pack_folder",
]

#: Sub-folders of ``dest``: the layout of ``shared/data``.
FAMILY_FOLDERS = {
    "ucr": "ucr",
    "uea": "uea",
    "ett": "ett",
    "physionet": "physionet2019_sepsis",
    "stocks": "stocks",
    "yahoo": "yahoo_s5",
}

#: What the fetcher of a one-name-per-item family writes under its folder, per name.
_NAMED_TARGETS = {"ucr": "{}", "uea": "{}", "ett": "{}.csv"}


def _server(base_url: str | None) -> dict[str, str]:
    """``{"base_url": ...}`` when one is given; empty (the fetcher's official default) otherwise."""
    return {"base_url": str(base_url)} if base_url else {}


def pack_folder(folder: Path, archive: Path) -> Path:
    """Write ``folder`` as ``archive`` (``.tar.gz``, members ``<folder name>/...``), atomically.

    Gives the layout of ``shared/data`` (``training_setA.tar.gz``,
    ``individual_stocks_5yr.tar.gz``), which the catalog reads. Standard-library
    ``tarfile`` (``add`` recurses in sorted order); no library of the field packs archives.
    """
    archive.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".part", dir=archive.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tarfile.open(tmp, "w:gz") as tf:
            tf.add(folder, arcname=folder.name)
        os.replace(tmp, archive)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("packed %s -> %s", folder, archive)
    return archive


# --------------------------------------------------------------------------- UCR / UEA / ETT


def download_family(
    family: str,
    names: list[str],
    dest: str | os.PathLike,
    *,
    overwrite: bool = False,
    timeout: float = 60,
    base_url: str | None = None,
) -> pd.DataFrame:
    """Fetch every name of a UCR, UEA or ETT family into ``<dest>/<family folder>/``.

    Parameters
    ----------
    family : {"ucr", "uea", "ett"}
    names : list of str
        Problem names (UCR/UEA, any of aeon's lists) or ETT file names (``"ETTh1"``).
    dest : path
        The data folder (``params:download.dest``, default ``data/01_raw``).
    overwrite, timeout
        Passed to the fetcher.
    base_url : str, optional
        Server to fetch from; None: the official one.

    Returns
    -------
    pd.DataFrame
        The manifest, one row per file; ``dataset`` is ``"<family>/<name>"`` and
        ``known_sha256`` the published checksum where one is known (ETTh1/ETTh2).

    Raises
    ------
    DownloadsFailed
        After the last name, when any failed (each with its URL and why).
    """
    if family not in _NAMED_TARGETS:
        raise ValueError(f"download_family fetches {sorted(_NAMED_TARGETS)}, not {family!r}")
    root = Path(dest) / FAMILY_FOLDERS[family]
    options = {"overwrite": overwrite, "timeout": timeout, **_server(base_url)}

    def rows_of(name: str) -> list[Row]:
        source = source_for(family, name)
        return fetched_rows(
            source.name,
            root / _NAMED_TARGETS[family].format(name),
            lambda: fetch(source, root, **options),
            published_sha256(source),
        )

    return collect_manifest(family.upper(), names, rows_of)


# --------------------------------------------------------------------------- PhysioNet 2019


def download_physionet_sets(
    sets: Iterable[str],
    dest: str | os.PathLike,
    *,
    pack: bool = True,
    overwrite: bool = False,
    timeout: float = 60,
    max_patients: int | None = None,
    workers: int = 8,
    base_url: str | None = None,
) -> pd.DataFrame:
    """Fetch PhysioNet/CinC 2019 training sets into ``<dest>/physionet2019_sepsis/training_set<X>/``.

    One ``.psv`` per patient, resumable
    (:func:`~tsmtl.data.download.physionet.download_physionet2019`); with ``pack`` each set
    folder is also packed into ``training_set<X>.tar.gz`` beside it, the file the
    ``physionet_raw`` catalog entry reads (the layout of ``shared/data``). The archive is
    rebuilt only when the folder changed.

    Parameters
    ----------
    sets : iterable of {"A", "B"}
    dest : path
    pack : bool, default True
    overwrite, timeout, max_patients, workers
        Passed to the fetcher (``max_patients`` None: all).
    base_url : str, optional
        None: PhysioNet.

    Returns
    -------
    pd.DataFrame
        The manifest: per set one folder row (``n_files`` patients) and one row per archive.
    """
    root = Path(dest) / FAMILY_FOLDERS["physionet"]
    options = {"overwrite": overwrite, "timeout": timeout, "max_patients": max_patients, "workers": workers,
               **_server(base_url)}  # fmt: skip

    def rows_of(letter: str) -> list[Row]:
        source = source_for("physionet2019", letter)  # ValueError for a set other than A or B
        folder = root / PHYSIONET_SETS[letter]
        before = snapshot(folder)
        fetch(source, root, **options)
        status = status_between(before, snapshot(folder))
        rows = [folder_row(source.name, folder, status)]
        if pack:
            archive = root / f"{folder.name}.tar.gz"
            packed_status = ALREADY_PRESENT
            if status == DOWNLOADED or not archive.exists():
                pack_folder(folder, archive)
                packed_status = DOWNLOADED
            rows += file_rows(source.name, [archive], packed_status)
        return rows

    return collect_manifest("PhysioNet 2019", [str(s) for s in sets], rows_of)


# --------------------------------------------------------------------------- Kaggle stocks


def arrange_stock_files(root: Path, overwrite: bool) -> list[Row]:
    """Give ``<dest>/stocks/`` the files the catalog reads, when the Kaggle downloads hold them.

    * ``individual_stocks_5yr.tar.gz``: packed from the folder ``individual_stocks_5yr/`` of
      ``<TICKER>_data.csv`` files in the "S&P 500 stock data" download (camnugent/sandp500);
    * ``earnings_latest.csv``: a copy of tsaustin's ``earnings_latest.csv`` (the shared copy is a
      derivative of it, see ``shared/data/SOURCES.md`` section 6; the reader takes both).

    Kaggle's archive layout is not checked here, so a file that is not found is logged, not fatal.
    Returns the manifest rows of the files arranged.
    """
    rows: list[Row] = []
    folders = sorted(
        p for p in root.rglob("individual_stocks_5yr") if p.is_dir() and any(p.glob("*_data.csv"))
    )
    if folders:
        archive = root / "individual_stocks_5yr.tar.gz"
        before = snapshot(archive)
        if overwrite or not archive.exists():
            pack_folder(folders[0], archive)
        rows += file_rows("kaggle/camnugent/sandp500", [archive], status_between(before, snapshot(archive)))
    else:
        log.warning("no individual_stocks_5yr/<TICKER>_data.csv folder under %s; "
                    "individual_stocks_5yr.tar.gz not written", root)  # fmt: skip
    earnings = sorted(p for p in root.glob("*/**/earnings_latest.csv") if p.is_file())
    if earnings:
        target = root / "earnings_latest.csv"
        before = snapshot(target)
        if target.exists() and not overwrite:
            if sha256_of_file(target) != sha256_of_file(earnings[0]):
                raise FileExistsError(f"{target} exists and differs from {earnings[0]}; pass overwrite: true to replace it")
        else:
            shutil.copyfile(earnings[0], target)
        rows += file_rows("kaggle/tsaustin/us-historical-stock-prices-with-earnings-data", [target],
                          status_between(before, snapshot(target)))  # fmt: skip
    else:
        log.warning("no earnings_latest.csv in the Kaggle downloads under %s", root)
    return rows


def download_kaggle_stocks(
    slugs: list[str],
    dest: str | os.PathLike,
    credentials: Mapping[str, Any] | None,
    *,
    overwrite: bool = False,
    timeout: float = 300,
    base_url: str | None = None,
) -> pd.DataFrame:
    """Download Kaggle datasets into ``<dest>/stocks/<slug>/`` and arrange the stock files.

    Parameters
    ----------
    slugs : list of str
        Kaggle ``owner/dataset`` slugs (ForeClassNet Sec. 5.2:
        :data:`~tsmtl.data.download.sources.KAGGLE_DATASETS`).
    dest : path
    credentials : mapping
        ``{"username", "key"}`` (or the whole ``credentials.yml`` mapping); see
        :func:`~tsmtl.data.download.kaggle.download_kaggle`.
    overwrite, timeout
    base_url : str, optional
        None: Kaggle's API.

    Returns
    -------
    pd.DataFrame
        The manifest: every downloaded file, then the arranged ``individual_stocks_5yr.tar.gz``
        and ``earnings_latest.csv`` (see :func:`arrange_stock_files`).
    """
    root = Path(dest) / FAMILY_FOLDERS["stocks"]
    options = {"credentials": credentials, "overwrite": overwrite, "timeout": timeout, **_server(base_url)}

    def rows_of(slug: str) -> list[Row]:
        source = source_for("kaggle", slug)
        return fetched_rows(source.name, root / slug.split("/")[-1], lambda: fetch(source, root, **options),
                            published_sha256(source))  # fmt: skip

    manifest = collect_manifest("Kaggle", slugs, rows_of)
    return manifest_frame(manifest.to_dict("records") + arrange_stock_files(root, overwrite))


# --------------------------------------------------------------------------- Yahoo S5


def install_yahoo_s5(local_path: str | os.PathLike, dest: str | os.PathLike, *, overwrite: bool = False) -> pd.DataFrame:
    """Install the user's own copy of Yahoo S5 into ``<dest>/yahoo_s5/`` (never downloaded).

    :func:`~tsmtl.data.download.yahoo.register_yahoo_s5` checks the 367-series layout.
    Returns the manifest, one row per installed file (``dataset`` ``"yahoo_s5"``).
    """
    root = Path(dest) / FAMILY_FOLDERS["yahoo"]
    source = source_for("yahoo_s5")
    rows = fetched_rows(source.name, root / YAHOO_S5_DIRNAME,
                        lambda: fetch(source, root, local_path=local_path, overwrite=overwrite))  # fmt: skip
    return manifest_frame(rows)
