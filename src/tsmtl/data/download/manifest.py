"""The download manifest: one table row per file fetched, with its SHA-256 and status.

What the download pipelines write to ``data/08_reporting/<family>_download_report.csv``.
Columns (:data:`MANIFEST_COLUMNS`):

``dataset``
    registry key of :data:`tsmtl.data.download.sources.DATASETS` (``"ucr/ECG200"``, ``"ett/ETTh1"``, ...)
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

:func:`collect_manifest` runs one fetch per item, keeps going past a failed item and raises
:class:`DownloadsFailed` after the last one, naming every failure. Serves the data of every
paper; moved down from ``tsmtl/pipelines/downloads.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tsmtl.data.download.http import DownloadError, sha256_of_file
from tsmtl.data.download.kaggle import MissingCredentialsError
from tsmtl.data.download.sources import DatasetSource
from tsmtl.data.errors import DataFormatError

log = logging.getLogger(__name__)

__all__ = [
    "ALREADY_PRESENT",
    "DOWNLOADED",
    "MANIFEST_COLUMNS",
    "DownloadsFailed",
    "collect_manifest",
    "fetched_rows",
    "file_rows",
    "folder_row",
    "manifest_frame",
    "published_sha256",
    "snapshot",
    "status_between",
]

MANIFEST_COLUMNS = ("dataset", "path", "n_files", "bytes", "sha256", "known_sha256", "status")
DOWNLOADED = "downloaded"
ALREADY_PRESENT = "already present"

#: ``{relative file name: (size, mtime_ns)}``
Snapshot = dict[str, tuple[int, int]]
#: One manifest row, ``{column: value}`` for every column of :data:`MANIFEST_COLUMNS`.
Row = dict[str, Any]


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


def snapshot(path: Path) -> Snapshot:
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


def status_between(before: Snapshot, after: Snapshot) -> str:
    """:data:`ALREADY_PRESENT` when something was there and nothing changed, else :data:`DOWNLOADED`."""
    return ALREADY_PRESENT if before and before == after else DOWNLOADED


def published_sha256(source: DatasetSource) -> str:
    """The published SHA-256 of a single-file source (``""`` where none is known)."""
    return (source.sha256[0] or "") if source.sha256 else ""


def file_rows(dataset: str, files: Iterable[Path], status: str, known_sha256: str = "") -> list[Row]:
    """One row per file, with its size and SHA-256 on disk."""
    return [
        {
            "dataset": dataset,
            "path": str(p),
            "n_files": 1,
            "bytes": p.stat().st_size,
            "sha256": sha256_of_file(p),
            "known_sha256": known_sha256,
            "status": status,
        }
        for p in files
    ]


def folder_row(dataset: str, folder: Path, status: str) -> Row:
    """One row for a whole folder (its file count and total size; no SHA-256)."""
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


def fetched_rows(dataset: str, target: Path, fetch: Callable[[], Path], known_sha256: str = "") -> list[Row]:
    """Run ``fetch()`` (which fills ``target``) and describe the files it returns.

    The status is "already present" when ``target`` was there and ``fetch`` left it unchanged.
    """
    before = snapshot(target)
    got = fetch()
    return file_rows(dataset, _files_under(got), status_between(before, snapshot(got)), known_sha256)


def manifest_frame(rows: list[Row]) -> pd.DataFrame:
    """The rows as a DataFrame with exactly the columns of :data:`MANIFEST_COLUMNS` (also when empty)."""
    return pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))


def collect_manifest(family: str, items: list[str], rows_of: Callable[[str], list[Row]]) -> pd.DataFrame:
    """Run ``rows_of(item)`` for every item; collect the failures and raise them together at the end.

    A :class:`~tsmtl.data.download.kaggle.MissingCredentialsError` is raised at once (it is
    the same for every item). Download, format, file-system and value errors are logged and
    collected; after the last item they are raised as one :class:`DownloadsFailed`.
    """
    rows: list[Row] = []
    failures: dict[str, str] = {}
    for item in items:
        try:
            rows.extend(rows_of(item))
        except MissingCredentialsError:
            raise  # the same for every item: say it once
        except (DownloadError, DataFormatError, OSError, ValueError) as err:
            log.error("%s %s: %s", family, item, err)
            failures[item] = str(err)
    if failures:
        raise DownloadsFailed(family, failures, len(items))
    return manifest_frame(rows)
