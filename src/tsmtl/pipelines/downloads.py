"""Thin nodes of the ``download_*`` and ``register_yahoo`` pipelines over :mod:`tsmtl.data.download`.

Every node fetches one dataset family into ``<dest>/<family>/`` with the layout of
``shared/data`` (see ``shared/data/SOURCES.md``), so that ``export
TSMTL_DATA_DIR=data/01_raw`` points the ingest pipelines at the downloaded copy:

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

Each node returns a manifest table, one row per file (one per folder for the
thousands of PhysioNet patient files), with the columns of :data:`MANIFEST_COLUMNS`:

``dataset``
    registry key of :data:`tsmtl.data.download.DATASETS` (``"ucr/ECG200"``, ``"ett/ETTh1"``, ...)
``path``
    the file (or folder) written
``n_files``, ``bytes``
    size of what is there
``sha256``
    SHA-256 of the file on disk (empty for a folder row)
``known_sha256``
    the published checksum the download was verified against, where one is known (ETTh1/ETTh2);
    empty otherwise
``status``
    ``"downloaded"`` (something was written by this run) or ``"already present"``

A failed item does not stop the others of the same family; after the last one the
node raises :class:`DownloadsFailed`, whose message lists every failure with its URL.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tsmtl.data.download import (
    DATASETS,
    KAGGLE_DATASETS,
    PHYSIONET_SETS,
    YAHOO_S5_DIRNAME,
    DownloadError,
    MissingCredentialsError,
    download_ett,
    download_kaggle,
    download_physionet2019,
    download_ucr,
    download_uea,
    register_yahoo_s5,
    yahoo_s5_instructions,
)
from tsmtl.data.errors import DataFormatError

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("dataset", "path", "n_files", "bytes", "sha256", "known_sha256", "status")
DOWNLOADED = "downloaded"
ALREADY_PRESENT = "already present"

#: Sub-folders of ``dest``: the layout of ``shared/data``.
FAMILY_FOLDERS = {
    "ucr": "ucr",
    "uea": "uea",
    "ett": "ett",
    "physionet": "physionet2019_sepsis",
    "stocks": "stocks",
    "yahoo": "yahoo_s5",
}

Snapshot = dict[str, tuple[int, int]]


class DownloadsFailed(RuntimeError):
    """Some items of a family could not be fetched; the message lists each one and why.

    Attributes
    ----------
    failures : dict of str to str
        ``{item: error message}`` (each message names the URL).
    """

    def __init__(self, family: str, failures: Mapping[str, str], n_items: int):
        self.failures = dict(failures)
        lines = "\n".join(f"  {item}: {message}" for item, message in self.failures.items())
        super().__init__(
            f"{len(self.failures)} of {n_items} {family} download(s) failed "
            f"(any that succeeded are in place; a re-run fetches only what is missing):\n{lines}"
        )


# --------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _snapshot(path: Path) -> Snapshot:
    """``{relative file name: (size, mtime_ns)}`` of a file or of every file under a folder."""
    if path.is_file():
        stat = path.stat()
        return {path.name: (stat.st_size, stat.st_mtime_ns)}
    if path.is_dir():
        out = {}
        for p in path.rglob("*"):
            if p.is_file():
                stat = p.stat()
                out[p.relative_to(path).as_posix()] = (stat.st_size, stat.st_mtime_ns)
        return out
    return {}


def _status(before: Snapshot, after: Snapshot) -> str:
    return ALREADY_PRESENT if before and before == after else DOWNLOADED


def _known_sha256(dataset: str) -> str:
    source = DATASETS.get(dataset)
    return (source.sha256[0] or "") if source and source.sha256 else ""


def _file_rows(dataset: str, files: Iterable[Path], status: str, known_sha256: str = "") -> list[dict[str, Any]]:
    return [
        {
            "dataset": dataset,
            "path": str(p),
            "n_files": 1,
            "bytes": p.stat().st_size,
            "sha256": _sha256(p),
            "known_sha256": known_sha256,
            "status": status,
        }
        for p in files
    ]


def _folder_row(dataset: str, folder: Path, status: str) -> dict[str, Any]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return {
        "dataset": dataset,
        "path": str(folder),
        "n_files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "sha256": "",
        "known_sha256": "",
        "status": status,
    }


def _files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())


def _fetched_rows(key: str, target: Path, fetch: Callable[[], Path], known_sha256: str = "") -> list[dict[str, Any]]:
    """Run ``fetch()`` (which fills ``target``) and describe the files it returns.

    The status is "already present" when ``target`` was there and ``fetch`` left it unchanged.
    """
    before = _snapshot(target)
    got = fetch()
    return _file_rows(key, _files_under(got), _status(before, _snapshot(got)), known_sha256)


def _manifest(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))


def _server(settings: Mapping[str, Any], key: str = "base_url") -> dict[str, Any]:
    """``{"base_url": ...}`` when the parameter is set; empty (library default) when null."""
    url = settings.get(key)
    return {"base_url": str(url)} if url else {}


def _fetch_each(
    family: str, items: list[str], fetch: Callable[[str], list[dict[str, Any]]]
) -> pd.DataFrame:
    """Run ``fetch(item)`` for every item; collect the failures and raise them together at the end."""
    rows: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    for item in items:
        try:
            rows.extend(fetch(item))
        except MissingCredentialsError:
            raise  # the same for every item: say it once
        except (DownloadError, DataFormatError, OSError, ValueError) as err:
            log.error("%s %s: %s", family, item, err)
            failures[item] = str(err)
    if failures:
        raise DownloadsFailed(family, failures, len(items))
    return _manifest(rows)


def _names(configured: list[str] | None, default: list[str] | Mapping[str, list[str]]) -> list[str]:
    """The configured list, else ``default`` (a list or ``{group: [names]}``), without repeats."""
    if configured:
        names = list(configured)
    elif isinstance(default, Mapping):
        names = [name for members in default.values() for name in members]
    else:
        names = list(default)
    return list(dict.fromkeys(names))


def _pack_folder(folder: Path, archive: Path) -> Path:
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


def _fetch_named(
    family: str,
    fetch: Callable[..., Path],
    names: list[str],
    settings: Mapping[str, Any],
    dest: str,
    target_name: str = "{}",
) -> pd.DataFrame:
    """``fetch(name, <dest>/<family folder>, overwrite, timeout[, base_url])`` for every name.

    ``target_name`` formats a name into what ``fetch`` writes (``"{}"``: the problem's folder,
    ``"{}.csv"``: an ETT file); manifest rows carry the known SHA-256 of ``<family>/<name>``.
    """
    root = Path(dest) / FAMILY_FOLDERS[family]

    def one(name: str) -> list[dict[str, Any]]:
        key = f"{family}/{name}"
        return _fetched_rows(
            key,
            root / target_name.format(name),
            lambda: fetch(
                name,
                root,
                overwrite=bool(settings.get("overwrite", False)),
                timeout=float(settings.get("timeout", 60)),
                **_server(settings),
            ),
            _known_sha256(key),
        )

    return _fetch_each(family.upper(), names, one)


def fetch_ucr(
    settings: Mapping[str, Any], groups: list[str] | Mapping[str, list[str]], dest: str
) -> pd.DataFrame:
    """Download UCR problems into ``<dest>/ucr/<Name>/`` (:func:`tsmtl.data.download.download_ucr`).

    Parameters
    ----------
    settings : mapping
        ``params:download.ucr``: ``datasets`` (list, or null for every task of
        ``groups``), ``base_url`` (null: the official server), ``timeout``, ``overwrite``.
    groups : list or mapping of str to list
        ``params:ucr.groups``: the ResNet2D paper's 25 tasks in 7 groups (Table I), the
        default list.
    dest : str
        ``params:download.dest`` (default ``data/01_raw``).

    Returns
    -------
    pd.DataFrame
        The manifest (:data:`MANIFEST_COLUMNS`), one row per file.
    """
    return _fetch_named("ucr", download_ucr, _names(settings.get("datasets"), groups), settings, dest)


def fetch_uea(settings: Mapping[str, Any], default_names: list[str], dest: str) -> pd.DataFrame:
    """Download UEA problems into ``<dest>/uea/<Name>/`` (:func:`tsmtl.data.download.download_uea`).

    ``settings`` is ``params:download.uea`` (as for :func:`fetch_ucr`); ``datasets: null``
    takes ``default_names`` (``params:uea.datasets``, T-Rep's classification problems).
    """
    return _fetch_named("uea", download_uea, _names(settings.get("datasets"), default_names), settings, dest)


def fetch_ett(settings: Mapping[str, Any], default_names: list[str], dest: str) -> pd.DataFrame:
    """Download ETT csv files into ``<dest>/ett/<name>.csv`` (:func:`tsmtl.data.download.download_ett`).

    ``settings`` is ``params:download.ett`` (``datasets``, ``base_url``, ``timeout``,
    ``overwrite``); ``datasets: null`` takes ``default_names`` (``params:ett.datasets``).
    ETTh1/ETTh2 are verified against their published SHA-256 (column ``known_sha256``).
    """
    return _fetch_named("ett", download_ett, _names(settings.get("datasets"), default_names), settings, dest, "{}.csv")


# --------------------------------------------------------------------------- PhysioNet 2019


def fetch_physionet(settings: Mapping[str, Any], dest: str) -> pd.DataFrame:
    """Download PhysioNet/CinC 2019 training set(s) (:func:`tsmtl.data.download.download_physionet2019`).

    Files land in ``<dest>/physionet2019_sepsis/training_setA/`` (one ``.psv`` per patient,
    resumable); with ``pack: true`` (default) the folder is also packed into
    ``training_setA.tar.gz`` beside it, the file the ``physionet_raw`` catalog entry reads
    (the layout of ``shared/data``). The archive is rebuilt only when the folder changed.

    ``settings`` is ``params:download.physionet``: ``sets`` (``[A]``, ``[A, B]``),
    ``max_patients`` (null: all), ``workers``, ``base_url``, ``timeout``, ``overwrite``,
    ``pack``. Manifest rows: one per set folder (``n_files`` patients) and one per archive.
    """
    root = Path(dest) / FAMILY_FOLDERS["physionet"]
    pack = bool(settings.get("pack", True))

    def one(letter: str) -> list[dict[str, Any]]:
        if letter not in PHYSIONET_SETS:
            raise ValueError(f"unknown training set {letter!r}; choose from {sorted(PHYSIONET_SETS)}")
        folder = root / PHYSIONET_SETS[letter]
        before = _snapshot(folder)
        max_patients = settings.get("max_patients")
        download_physionet2019(
            root,
            sets=(letter,),
            overwrite=bool(settings.get("overwrite", False)),
            timeout=float(settings.get("timeout", 60)),
            max_patients=None if max_patients is None else int(max_patients),
            workers=int(settings.get("workers", 8)),
            **_server(settings),
        )
        status = _status(before, _snapshot(folder))
        key = f"physionet2019/{folder.name}"
        rows = [_folder_row(key, folder, status)]
        if pack:
            archive = root / f"{folder.name}.tar.gz"
            packed_status = ALREADY_PRESENT
            if status == DOWNLOADED or not archive.exists():
                _pack_folder(folder, archive)
                packed_status = DOWNLOADED
            rows += _file_rows(key, [archive], packed_status)
        return rows

    return _fetch_each("PhysioNet 2019", [str(s) for s in settings.get("sets", ["A"])], one)


# --------------------------------------------------------------------------- Kaggle stocks


def _arrange_stock_files(root: Path, overwrite: bool) -> list[dict[str, Any]]:
    """Give ``<dest>/stocks/`` the files the catalog reads, when the Kaggle downloads hold them.

    * ``individual_stocks_5yr.tar.gz``: packed from the folder ``individual_stocks_5yr/`` of
      ``<TICKER>_data.csv`` files in the "S&P 500 stock data" download (camnugent/sandp500);
    * ``earnings_latest.csv``: a copy of tsaustin's ``earnings_latest.csv`` (the shared copy is a
      derivative of it, see ``shared/data/SOURCES.md`` section 6; the reader takes both).

    Kaggle's archive layout is not checked here, so a file that is not found is logged, not fatal.
    """
    rows: list[dict[str, Any]] = []
    folders = sorted(
        p for p in root.rglob("individual_stocks_5yr") if p.is_dir() and any(p.glob("*_data.csv"))
    )
    if folders:
        archive = root / "individual_stocks_5yr.tar.gz"
        before = _snapshot(archive)
        if overwrite or not archive.exists():
            _pack_folder(folders[0], archive)
        rows += _file_rows("kaggle/camnugent/sandp500", [archive], _status(before, _snapshot(archive)))
    else:
        log.warning("no individual_stocks_5yr/<TICKER>_data.csv folder under %s; "
                    "individual_stocks_5yr.tar.gz not written", root)  # fmt: skip
    earnings = sorted(p for p in root.glob("*/**/earnings_latest.csv") if p.is_file())
    if earnings:
        target = root / "earnings_latest.csv"
        before = _snapshot(target)
        if target.exists() and not overwrite:
            if _sha256(target) != _sha256(earnings[0]):
                raise FileExistsError(f"{target} exists and differs from {earnings[0]}; pass overwrite: true to replace it")
        else:
            shutil.copyfile(earnings[0], target)
        rows += _file_rows("kaggle/tsaustin/us-historical-stock-prices-with-earnings-data", [target],
                           _status(before, _snapshot(target)))  # fmt: skip
    else:
        log.warning("no earnings_latest.csv in the Kaggle downloads under %s", root)
    return rows


def fetch_stocks(credentials: Mapping[str, Any], settings: Mapping[str, Any], dest: str) -> pd.DataFrame:
    """Download the Kaggle stock datasets of ForeClassNet Sec. 5.2 into ``<dest>/stocks/``.

    Parameters
    ----------
    credentials : mapping
        ``{"username", "key"}`` from the ``kaggle_credentials`` catalog entry
        (:class:`tsmtl.kedro_datasets.KaggleCredentialsDataset`).
    settings : mapping
        ``params:download.stocks``: ``datasets`` (Kaggle ``owner/dataset`` slugs; null:
        :data:`tsmtl.data.download.KAGGLE_DATASETS`), ``base_url`` (null: Kaggle's API),
        ``timeout``, ``overwrite``.
    dest : str

    Returns
    -------
    pd.DataFrame
        The manifest: every downloaded file, then the arranged ``individual_stocks_5yr.tar.gz``
        and ``earnings_latest.csv`` (see :func:`_arrange_stock_files`).
    """
    root = Path(dest) / FAMILY_FOLDERS["stocks"]
    overwrite = bool(settings.get("overwrite", False))

    def one(slug: str) -> list[dict[str, Any]]:
        return _fetched_rows(
            f"kaggle/{slug}",
            root / slug.split("/")[-1],
            lambda: download_kaggle(
                slug,
                root,
                credentials=credentials,
                overwrite=overwrite,
                timeout=float(settings.get("timeout", 300)),
                **_server(settings),
            ),
        )

    manifest = _fetch_each("Kaggle", _names(settings.get("datasets"), list(KAGGLE_DATASETS)), one)
    return _manifest(manifest.to_dict("records") + _arrange_stock_files(root, overwrite))


# --------------------------------------------------------------------------- Yahoo S5


class YahooS5NotGiven(ValueError):
    """``params:download.yahoo.local_path`` is null: Yahoo S5 is never downloaded."""


def register_yahoo(settings: Mapping[str, Any], dest: str) -> pd.DataFrame:
    """Install the user's own copy of Yahoo S5 into ``<dest>/yahoo_s5/`` (never downloaded).

    ``settings`` is ``params:download.yahoo``: ``local_path`` (the Webscope archive or an
    unpacked folder) and ``overwrite``. With ``local_path: null`` the licence instructions are
    logged and :class:`YahooS5NotGiven` is raised (its message holds them too). Calls
    :func:`tsmtl.data.download.register_yahoo_s5`, which checks the 367-series layout.
    """
    local_path = settings.get("local_path")
    if not local_path:
        instructions = yahoo_s5_instructions()
        log.error("Yahoo S5 is not downloaded by tsmtl.\n%s", instructions)
        raise YahooS5NotGiven(
            "params download.yahoo.local_path is null: give the path of your own copy, e.g.\n"
            "  kedro run --pipeline register_yahoo --params download.yahoo.local_path=/path/to/"
            f"{YAHOO_S5_DIRNAME}.tgz\n\n{instructions}"
        )
    root = Path(dest) / FAMILY_FOLDERS["yahoo"]
    got = _fetched_rows(
        "yahoo_s5",
        root / YAHOO_S5_DIRNAME,
        lambda: register_yahoo_s5(local_path, root, overwrite=bool(settings.get("overwrite", False))),
    )
    return _manifest(got)
