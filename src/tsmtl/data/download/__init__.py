"""Fetch the project's datasets from their official sources, safely.

The download layer of issue #11's layout, one module per concern:

=====================  ==========================================================================
module                 holds
=====================  ==========================================================================
:mod:`.http`           :func:`download_file`: HTTP(S) streamed to a temporary file, SHA-256 checked,
                       renamed into place; :class:`DownloadError`, :class:`ChecksumError`
:mod:`.extract`        :func:`safe_extract` (every archive member checked before anything is written)
                       and the helpers that install unpacked files
:mod:`.sources`        the registry :data:`DATASETS` of official URLs, checksums, licences,
                       citations, and the fetcher of each (:class:`DatasetSource`)
:mod:`.ucr_uea`        :func:`download_ucr`, :func:`download_uea` (ResNet2D-MTL, ForeClassNet, T-Rep)
:mod:`.ett`            :func:`download_ett` (T-Rep forecasting)
:mod:`.physionet`      :func:`download_physionet2019` (T-Rep anomaly detection, Sepsis)
:mod:`.kaggle`         :func:`download_kaggle` (ForeClassNet Sec. 5.2 stocks)
:mod:`.yahoo`          :func:`register_yahoo_s5`, :func:`yahoo_s5_instructions` (T-Rep, Yahoo;
                       licence-bound, never downloaded)
:mod:`.dispatch`       :func:`fetch`: any registry entry, with the fetcher it names
:mod:`.manifest`       the manifest table the download pipelines report (one row per file)
:mod:`.layout`         whole families into the layout of ``shared/data``, returning the manifest
                       (what the ``download_*`` pipelines run)
=====================  ==========================================================================

Every fetcher takes the server address as an argument (``base_url``) whose default is
the official source, so the whole layer can be tested against a local server. This
package re-exports the public names that ``tsmtl/data/download.py`` had before the
split, so ``from tsmtl.data.download import download_ucr`` keeps working; code inside
the project imports from the module that defines a name.
"""

from tsmtl.data.download.dispatch import fetch
from tsmtl.data.download.ett import ETT_HEADER, download_ett
from tsmtl.data.download.extract import safe_extract
from tsmtl.data.download.http import ChecksumError, DownloadError, download_file
from tsmtl.data.download.kaggle import MissingCredentialsError, download_kaggle
from tsmtl.data.download.physionet import PHYSIONET_N_COLUMNS, download_physionet2019
from tsmtl.data.download.sources import (
    DATASETS,
    ETT_BASE_URL,
    ETT_SHA256,
    KAGGLE_API_URL,
    KAGGLE_DATASETS,
    PHYSIONET_BASE_URL,
    PHYSIONET_SETS,
    UCR_BASE_URL,
    UCR_PROJECT_DATASETS,
    UEA_BASE_URL,
    UEA_PROJECT_DATASETS,
    YAHOO_S5_DIRNAME,
    YAHOO_S5_URL,
    DatasetSource,
    source_for,
)
from tsmtl.data.download.ucr_uea import download_ucr, download_uea
from tsmtl.data.download.yahoo import YAHOO_S5_LAYOUT, register_yahoo_s5, yahoo_s5_instructions

__all__ = [
    "DATASETS",
    "ETT_BASE_URL",
    "ETT_HEADER",
    "ETT_SHA256",
    "KAGGLE_API_URL",
    "KAGGLE_DATASETS",
    "PHYSIONET_BASE_URL",
    "PHYSIONET_N_COLUMNS",
    "PHYSIONET_SETS",
    "UCR_BASE_URL",
    "UCR_PROJECT_DATASETS",
    "UEA_BASE_URL",
    "UEA_PROJECT_DATASETS",
    "YAHOO_S5_DIRNAME",
    "YAHOO_S5_LAYOUT",
    "YAHOO_S5_URL",
    "ChecksumError",
    "DatasetSource",
    "DownloadError",
    "MissingCredentialsError",
    "download_ett",
    "download_file",
    "download_kaggle",
    "download_physionet2019",
    "download_ucr",
    "download_uea",
    "fetch",
    "register_yahoo_s5",
    "safe_extract",
    "source_for",
    "yahoo_s5_instructions",
]
