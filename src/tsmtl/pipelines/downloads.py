"""Thin nodes of the ``download_*`` and ``register_yahoo`` pipelines over :mod:`tsmtl.data.download.layout`.

Each node reads its ``params:download.<family>`` settings (null ``base_url``: the official
server; null ``datasets``: the paper's default list) and calls the library function that
fetches the family into ``<dest>/<family>/`` with the layout of ``shared/data``, so that
``export TSMTL_DATA_DIR=data/01_raw`` points the ingest pipelines at the downloaded copy.
Each returns the manifest table of :mod:`tsmtl.data.download.manifest` (one row per file;
the columns of :data:`~tsmtl.data.download.manifest.MANIFEST_COLUMNS`); a failed item does
not stop the others, and :class:`~tsmtl.data.download.manifest.DownloadsFailed` lists every
failure at the end. Issue #11 ("Layout") moved the manifest and layout logic into the library.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd

from tsmtl.data.download.layout import (
    download_family,
    download_kaggle_stocks,
    download_physionet_sets,
    install_yahoo_s5,
)
from tsmtl.data.download.sources import KAGGLE_DATASETS, YAHOO_S5_DIRNAME
from tsmtl.data.download.yahoo import yahoo_s5_instructions

log = logging.getLogger(__name__)


def _names(configured: list[str] | None, default: Collection[str]) -> list[str]:
    """The configured list, else ``default`` (a list or ``{group: [names]}``), without repeats."""
    if configured:
        names = list(configured)
    elif isinstance(default, Mapping):
        names = [name for members in default.values() for name in members]
    else:
        names = list(default)
    return list(dict.fromkeys(names))


def _options(settings: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    """``overwrite``, ``timeout`` (default ``timeout``) and ``base_url`` (null: None) of ``settings``."""
    return {
        "overwrite": bool(settings.get("overwrite", False)),
        "timeout": float(settings.get("timeout", timeout)),
        "base_url": settings.get("base_url") or None,
    }


def fetch_ucr(settings: Mapping[str, Any], groups: Collection[str], dest: str) -> pd.DataFrame:
    """Download UCR problems into ``<dest>/ucr/<Name>/`` (:func:`tsmtl.data.download.ucr_uea.download_ucr`).

    Parameters
    ----------
    settings : mapping
        ``params:download.ucr``: ``datasets`` (list, or null for every task of
        ``groups``), ``base_url`` (null: the official server), ``timeout``, ``overwrite``.
    groups : list of str, or mapping of str to list of str
        ``params:ucr.groups``: the ResNet2D paper's 25 tasks in 7 groups (Table I), the
        default list. Annotated ``Collection[str]`` (both are) rather than a union, which
        Kedro's parameter validation warns about on every run (issue #11).
    dest : str
        ``params:download.dest`` (default ``data/01_raw``).

    Returns
    -------
    pd.DataFrame
        The manifest, one row per file.
    """
    return download_family("ucr", _names(settings.get("datasets"), groups), dest, **_options(settings, 60))


def fetch_uea(settings: Mapping[str, Any], default_names: list[str], dest: str) -> pd.DataFrame:
    """Download UEA problems into ``<dest>/uea/<Name>/`` (:func:`tsmtl.data.download.ucr_uea.download_uea`).

    ``settings`` is ``params:download.uea`` (as for :func:`fetch_ucr`); ``datasets: null``
    takes ``default_names`` (``params:uea.datasets``, T-Rep's classification problems).
    """
    return download_family("uea", _names(settings.get("datasets"), default_names), dest, **_options(settings, 60))


def fetch_ett(settings: Mapping[str, Any], default_names: list[str], dest: str) -> pd.DataFrame:
    """Download ETT csv files into ``<dest>/ett/<name>.csv`` (:func:`tsmtl.data.download.ett.download_ett`).

    ``settings`` is ``params:download.ett`` (``datasets``, ``base_url``, ``timeout``,
    ``overwrite``); ``datasets: null`` takes ``default_names`` (``params:ett.datasets``).
    ETTh1/ETTh2 are verified against their published SHA-256 (column ``known_sha256``).
    """
    return download_family("ett", _names(settings.get("datasets"), default_names), dest, **_options(settings, 60))


def fetch_physionet(settings: Mapping[str, Any], dest: str) -> pd.DataFrame:
    """Download PhysioNet/CinC 2019 training set(s) (:func:`tsmtl.data.download.layout.download_physionet_sets`).

    Files land in ``<dest>/physionet2019_sepsis/training_setA/`` (one ``.psv`` per patient,
    resumable); with ``pack: true`` (default) the folder is also packed into
    ``training_setA.tar.gz`` beside it, the file the ``physionet_raw`` catalog entry reads.

    ``settings`` is ``params:download.physionet``: ``sets`` (``[A]``, ``[A, B]``),
    ``max_patients`` (null: all), ``workers``, ``base_url``, ``timeout``, ``overwrite``,
    ``pack``. Manifest rows: one per set folder (``n_files`` patients) and one per archive.
    """
    max_patients = settings.get("max_patients")
    return download_physionet_sets(
        settings.get("sets", ["A"]),
        dest,
        pack=bool(settings.get("pack", True)),
        max_patients=None if max_patients is None else int(max_patients),
        workers=int(settings.get("workers", 8)),
        **_options(settings, 60),
    )


def fetch_stocks(credentials: Mapping[str, Any], settings: Mapping[str, Any], dest: str) -> pd.DataFrame:
    """Download the Kaggle stock datasets of ForeClassNet Sec. 5.2 into ``<dest>/stocks/``.

    Parameters
    ----------
    credentials : mapping
        ``{"username", "key"}`` from the ``kaggle_credentials`` catalog entry
        (:class:`tsmtl.kedro_datasets.KaggleCredentialsDataset`).
    settings : mapping
        ``params:download.stocks``: ``datasets`` (Kaggle ``owner/dataset`` slugs; null:
        :data:`tsmtl.data.download.sources.KAGGLE_DATASETS`), ``base_url`` (null: Kaggle's API),
        ``timeout``, ``overwrite``.
    dest : str

    Returns
    -------
    pd.DataFrame
        The manifest: every downloaded file, then the arranged ``individual_stocks_5yr.tar.gz``
        and ``earnings_latest.csv`` (:func:`tsmtl.data.download.layout.arrange_stock_files`).
    """
    slugs = _names(settings.get("datasets"), list(KAGGLE_DATASETS))
    return download_kaggle_stocks(slugs, dest, credentials, **_options(settings, 300))


class YahooS5NotGiven(ValueError):
    """``params:download.yahoo.local_path`` is null: Yahoo S5 is never downloaded."""


def register_yahoo(settings: Mapping[str, Any], dest: str) -> pd.DataFrame:
    """Install the user's own copy of Yahoo S5 into ``<dest>/yahoo_s5/`` (never downloaded).

    ``settings`` is ``params:download.yahoo``: ``local_path`` (the Webscope archive or an
    unpacked folder) and ``overwrite``. With ``local_path: null`` the licence instructions are
    logged and :class:`YahooS5NotGiven` is raised (its message holds them too). Calls
    :func:`tsmtl.data.download.layout.install_yahoo_s5`, which checks the 367-series layout.
    """
    local_path = settings.get("local_path")
    if not local_path:
        instructions = yahoo_s5_instructions()
        log.error("Yahoo S5 is not downloaded by tsmtl.\n%s", instructions)
        raise YahooS5NotGiven(
            "params download.yahoo.local_path is null: give the path of your own copy, e.g.\n"
            "  kedro run --pipelines register_yahoo --params download.yahoo.local_path=/path/to/"
            f"{YAHOO_S5_DIRNAME}.tgz\n\n{instructions}"
        )
    return install_yahoo_s5(local_path, dest, overwrite=bool(settings.get("overwrite", False)))
