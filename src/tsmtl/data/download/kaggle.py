"""Fetch a Kaggle dataset through Kaggle's REST API, with the user's API key.

No ``kaggle`` package: one authenticated ``GET`` of the dataset's zip (the endpoint the
official client uses), unpacked with :func:`~tsmtl.data.download.extract.safe_extract`.
Serves ForeClassNet Sec. 5.2 (the US stock prices with earnings data); split out of
``tsmtl/data/download.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import base64
import logging
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from tsmtl.data.download.extract import move_tree, require_zip, safe_extract, staging_dir
from tsmtl.data.download.http import DownloadError, download_file
from tsmtl.data.download.sources import KAGGLE_API_URL

logger = logging.getLogger(__name__)

__all__ = ["MissingCredentialsError", "download_kaggle"]

_KAGGLE_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KAGGLE_HELP = (
    "Kaggle needs an API key. Create one at https://www.kaggle.com/settings (API -> "
    "'Create New Token') and put it in conf/local/credentials.yml (never committed):\n"
    "  kaggle:\n    username: <your Kaggle user name>\n    key: <the key from kaggle.json>\n"
    "or set the environment variables KAGGLE_USERNAME and KAGGLE_KEY."
)


class MissingCredentialsError(ValueError):
    """Credentials needed for a source (Kaggle) were not given."""


def _kaggle_credentials(credentials: Mapping | None) -> tuple[str, str]:
    creds: Mapping = credentials or {}
    if "kaggle" in creds and isinstance(creds["kaggle"], Mapping):
        creds = creds["kaggle"]  # the whole credentials.yml was passed
    username = creds.get("username") or os.environ.get("KAGGLE_USERNAME")
    key = creds.get("key") or os.environ.get("KAGGLE_KEY")
    if not username or not key:
        raise MissingCredentialsError(_KAGGLE_HELP)
    return str(username), str(key)


def download_kaggle(
    dataset: str,
    dest: str | os.PathLike,
    credentials: Mapping | None = None,
    base_url: str = KAGGLE_API_URL,
    overwrite: bool = False,
    timeout: float = 300,
) -> Path:
    """Download and unpack a Kaggle dataset through Kaggle's REST API (no ``kaggle`` package).

    ``GET <base_url>/datasets/download/<owner>/<dataset>`` with HTTP Basic auth
    (``username:key``), the endpoint the official client uses; the reply is a zip
    of the whole dataset, unpacked with :func:`safe_extract`. The Authorization
    header is not forwarded when Kaggle redirects to its storage host.

    Parameters
    ----------
    dataset : str
        ``"<owner>/<dataset>"``, e.g. one of :data:`~tsmtl.data.download.sources.KAGGLE_DATASETS`.
    dest : path
        Folder that receives ``<dataset>/`` (the slug after the ``/``).
    credentials : mapping, optional
        ``{"username": ..., "key": ...}``, or the whole kedro ``credentials.yml``
        mapping with a ``kaggle:`` entry. Falls back to ``$KAGGLE_USERNAME`` /
        ``$KAGGLE_KEY``.
    base_url : str
        API root; default ``https://www.kaggle.com/api/v1``.
    overwrite : bool, default False
    timeout : float, default 300

    Returns
    -------
    Path
        ``<dest>/<dataset slug>`` with the dataset's files.

    Raises
    ------
    MissingCredentialsError
        No username/key; the message says where to put them.
    DownloadError
        E.g. HTTP 401/403 (bad key, or the dataset's terms not accepted on the website).
    """
    if not _KAGGLE_SLUG.match(dataset):
        raise ValueError(f"Kaggle dataset must look like 'owner/dataset', got {dataset!r}")
    username, key = _kaggle_credentials(credentials)
    token = base64.b64encode(f"{username}:{key}".encode()).decode("ascii")
    url = f"{base_url.rstrip('/')}/datasets/download/{dataset}"
    dest = Path(dest)
    target = dest / dataset.split("/")[1]
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        # Files are moved in only after a complete, verified download and extraction.
        logger.info("%s already holds %s; not downloading (overwrite=True fetches again)",
                    target, dataset)  # fmt: skip
        return target
    staging = staging_dir(dest)
    try:
        try:
            zip_path = download_file(url, staging / "dataset.zip", timeout=timeout,
                                     validate=require_zip(url),
                                     headers={"Authorization": f"Basic {token}"})  # fmt: skip
        except DownloadError as err:
            if err.status in (401, 403):
                raise DownloadError(
                    url,
                    f"{err} - Kaggle refused the credentials for user {username!r}. Check the "
                    "key, and accept the dataset's terms on its Kaggle page if it has any.",
                    status=err.status,
                ) from err
            raise
        unpacked = staging / "unpacked"
        safe_extract(zip_path, unpacked)
        move_tree(unpacked, target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
