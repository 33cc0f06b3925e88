"""The registry of the project's datasets: official URLs, checksums, licences, citations.

Nothing here touches the network. :data:`DATASETS` lists every dataset the papers use,
keyed ``"<family>/<name>"``; each :class:`DatasetSource` names the fetcher that installs
it (its ``fetch`` field, dispatched by :func:`tsmtl.data.download.dispatch.fetch`) and
the argument that fetcher takes (``item``). :func:`source_for` builds the same entry for
a name the registry does not list (any UCR/UEA problem of aeon's lists, any Kaggle
dataset).

Sources:

* UCR / UEA archives -- ``https://timeseriesclassification.com/aeon-toolkit/<Name>.zip``,
  the URL aeon 1.6 (``aeon.datasets.download_dataset``) uses.
* ETT -- ``https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/<name>.csv``.
* PhysioNet/CinC Challenge 2019 (sepsis) --
  ``https://physionet.org/files/challenge-2019/1.0.0/training/training_setA/pNNNNNN.psv``.
* Kaggle -- ``https://www.kaggle.com/api/v1/datasets/download/<owner>/<dataset>``
  (HTTP Basic auth with the user's API key).
* Yahoo S5 (Webscope) -- never downloaded: the licence forbids redistribution;
  :func:`tsmtl.data.download.yahoo.register_yahoo_s5` installs the user's own copy.

The papers these datasets serve: UCR problems in the ResNet2D-MTL experiments
(ECG200, CricketX, SemgHand*, UWaveGestureLibraryAll, ...) and ForeClassNet
Sec. 5.1 (ECG5000); the Kaggle stock data in ForeClassNet Sec. 5.2 ("US historical
stock prices with earnings data"); ETT, Yahoo and Sepsis in T-Rep's "Experiments"
section (forecasting on ETTh1/ETTh2/ETTm1/ETTm2; anomaly detection on Yahoo, 367
series, and on the 2019 PhysioNet Sepsis data). Split out of ``tsmtl/data/download.py``
by issue #11 ("Layout").
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = [
    "DATASETS",
    "ETT_BASE_URL",
    "ETT_SHA256",
    "KAGGLE_API_URL",
    "KAGGLE_DATASETS",
    "PHYSIONET_BASE_URL",
    "PHYSIONET_SETS",
    "UCR_BASE_URL",
    "UCR_PROJECT_DATASETS",
    "UEA_BASE_URL",
    "UEA_PROJECT_DATASETS",
    "YAHOO_S5_DIRNAME",
    "YAHOO_S5_URL",
    "DatasetSource",
    "source_for",
]

#: aeon 1.6 ``download_dataset`` fetches ``f"https://timeseriesclassification.com/aeon-toolkit/{name}.zip"``
#: for univariate (UCR) and multivariate (UEA) problems alike.
UCR_BASE_URL = "https://timeseriesclassification.com/aeon-toolkit"
UEA_BASE_URL = "https://timeseriesclassification.com/aeon-toolkit"

#: Raw files of the official repository (branch ``main``), folder ``ETT-small/``.
ETT_BASE_URL = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small"

#: SHA-256 of the upstream csv files. ETTh1/ETTh2 are taken from ``shared/data/SHA256SUMS``,
#: whose copies are verbatim upstream files (zhouhaoyi/ETDataset commit 1d16c8f, see
#: ``shared/data/SOURCES.md``). The shared ETTm1/ETTm2 are gzipped copies of a third-party
#: mirror, so the checksum of the upstream ``.csv`` is not known here: ``None`` (the file is
#: then only checked for the ETT header).
ETT_SHA256: dict[str, str | None] = {
    "ETTh1": "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
    "ETTh2": "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b",
    "ETTm1": None,
    "ETTm2": None,
}

#: Folder that holds ``training_setA/`` and ``training_setB/`` (one ``.psv`` file per patient).
#: PhysioNet serves an HTML index of each folder (what ``wget -r`` follows); the patient list is
#: read from that index. PhysioNet publishes no per-file checksum that could be confirmed here,
#: so every file is checked for the 41-column header instead. Third-party tools (tsdm, TSDB)
#: fetch ``training_setA.zip`` from the legacy host ``archive.physionet.org/users/shared/
#: challenge-2019/``; that host could not be confirmed as current, so it is not used.
PHYSIONET_BASE_URL = "https://physionet.org/files/challenge-2019/1.0.0/training"
PHYSIONET_SETS = {"A": "training_setA", "B": "training_setB"}

#: Kaggle's public REST API; ``/datasets/download/<owner>/<dataset>`` answers with a zip of
#: the whole dataset (after a redirect to a signed storage URL).
KAGGLE_API_URL = "https://www.kaggle.com/api/v1"
KAGGLE_DATASETS = (
    # ForeClassNet Sec. 5.2: "US historical stock prices with earnings data".
    "tsaustin/us-historical-stock-prices-with-earnings-data",
    # "S&P 500 stock data" (Cam Nugent): the individual_stocks_5yr files in shared/data/stocks.
    "camnugent/sandp500",
)

#: Yahoo Webscope "S5 - A Labeled Anomaly Detection Dataset, version 1.0".
YAHOO_S5_DIRNAME = "ydata-labeled-time-series-anomalies-v1_0"
YAHOO_S5_URL = "https://webscope.sandbox.yahoo.com/catalog.php?datatype=s&did=70"

#: The UCR datasets the project uses (ResNet2D-MTL experiments; SOURCES.md section 1).
UCR_PROJECT_DATASETS = (
    "AllGestureWiimoteX", "AllGestureWiimoteY", "AllGestureWiimoteZ",
    "CricketX", "CricketY", "CricketZ",
    "DodgerLoopDay", "DodgerLoopGame", "DodgerLoopWeekend",
    "ECG200", "ECG5000", "ECGFiveDays",
    "GestureMidAirD1", "GestureMidAirD2", "GestureMidAirD3",
    "NonInvasiveFetalECGThorax1", "NonInvasiveFetalECGThorax2",
    "SemgHandGenderCh2", "SemgHandMovementCh2", "SemgHandSubjectCh2",
    "TwoLeadECG",
    "UWaveGestureLibraryAll", "UWaveGestureLibraryX", "UWaveGestureLibraryY",
    "UWaveGestureLibraryZ",
)  # fmt: skip
UEA_PROJECT_DATASETS = ("ArticularyWordRecognition", "AtrialFibrillation", "BasicMotions", "NATOPS")


@dataclass(frozen=True)
class DatasetSource:
    """Where one dataset comes from, and which fetcher installs it.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"ucr/ECG200"`` or ``"ett/ETTh1"``.
    urls : tuple of str
        Official download URLs (folders end with ``/``). Empty when the data may
        not be downloaded by us (Yahoo S5).
    sha256 : tuple of (str or None)
        One entry per URL; ``None`` where no checksum is known.
    licence : str
    citation : str
    fetch : str
        Name of the :mod:`tsmtl.data.download` function that downloads (or installs)
        it; :func:`tsmtl.data.download.dispatch.fetch` calls that function.
    notes : str
    item : str
        What that function is given to fetch this dataset: the problem name
        (``"ECG200"``), the ETT file (``"ETTh1"``), the PhysioNet training set letter
        (``"A"``), the Kaggle slug (``"camnugent/sandp500"``); empty for Yahoo S5.
    """

    name: str
    urls: tuple[str, ...]
    sha256: tuple[str | None, ...]
    licence: str
    citation: str
    fetch: str
    notes: str = ""
    item: str = ""

    def __post_init__(self) -> None:
        if len(self.sha256) != len(self.urls):
            raise ValueError(f"{self.name}: need one sha256 entry (or None) per url")


_UCR_CITATION = (
    "Dau, H. A. et al. The UCR Time Series Classification Archive (2018). arXiv:1810.07758"
)
_UEA_CITATION = (
    "Bagnall, A. et al. The UEA multivariate time series classification archive, 2018. "
    "arXiv:1811.00075"
)


def _ucr_source(name: str) -> DatasetSource:
    return DatasetSource(
        name=f"ucr/{name}",
        urls=(f"{UCR_BASE_URL}/{name}.zip",),
        sha256=(None,),
        licence="No formal licence; free for research use with citation.",
        citation=_UCR_CITATION,
        fetch="download_ucr",
        notes="No published checksum; the zip is checked to hold <Name>_TRAIN/_TEST files.",
        item=name,
    )


def _uea_source(name: str) -> DatasetSource:
    return DatasetSource(
        name=f"uea/{name}",
        urls=(f"{UEA_BASE_URL}/{name}.zip",),
        sha256=(None,),
        licence="No licence stated for the data; cite the archive.",
        citation=_UEA_CITATION,
        fetch="download_uea",
        item=name,
    )


def _ett_source(name: str) -> DatasetSource:
    digest = ETT_SHA256.get(name)
    return DatasetSource(
        name=f"ett/{name}",
        urls=(f"{ETT_BASE_URL}/{name}.csv",),
        sha256=(digest,),
        licence="CC BY-ND 4.0 (LICENSE in zhouhaoyi/ETDataset)",
        citation="Zhou, H. et al. Informer: Beyond Efficient Transformer for Long "
        "Sequence Time-Series Forecasting. AAAI 2021.",
        fetch="download_ett",
        notes="" if digest else "Upstream csv checksum unknown (shared copy is a "
        "gzipped third-party mirror); only the header is checked.",
        item=name,
    )


def _physionet_source(letter: str) -> DatasetSource:
    if letter not in PHYSIONET_SETS:
        raise ValueError(f"unknown training set {letter!r}; choose from {sorted(PHYSIONET_SETS)}")
    folder = PHYSIONET_SETS[letter]
    return DatasetSource(
        name=f"physionet2019/{folder}",
        urls=(f"{PHYSIONET_BASE_URL}/{folder}/",),
        sha256=(None,),
        licence="PhysioNet open access (see https://physionet.org/content/"
        "challenge-2019/1.0.0/; exact licence not verified here).",
        citation="Reyna, M. A. et al. Early Prediction of Sepsis From Clinical Data: "
        "the PhysioNet/Computing in Cardiology Challenge 2019. Crit Care Med "
        "48(2):210-217 (2020). PhysioNet doi:10.13026/v64v-d857.",
        fetch="download_physionet2019",
        notes=f"One .psv per patient; sets=('{letter}',). Files are checked for the "
        "41-column header (no per-file checksum known).",
        item=letter,
    )


def _kaggle_source(slug: str) -> DatasetSource:
    return DatasetSource(
        name=f"kaggle/{slug}",
        urls=(f"{KAGGLE_API_URL}/datasets/download/{slug}",),
        sha256=(None,),
        licence="As stated on the Kaggle dataset page (not verified here); needs a "
        "Kaggle account and API key.",
        citation=f"Kaggle dataset https://www.kaggle.com/datasets/{slug}",
        fetch="download_kaggle",
        item=slug,
    )


_YAHOO_S5_SOURCE = DatasetSource(
    name="yahoo_s5",
    urls=(),
    sha256=(),
    licence="Yahoo Webscope: approved non-commercial research under a signed data "
    "sharing agreement; not to be redistributed.",
    citation="Laptev, N., Amizadeh, S., Billawala, Y. S5 - A Labeled Anomaly "
    "Detection Dataset, version 1.0. Yahoo Webscope (2015).",
    fetch="register_yahoo_s5",
    notes=f"Never downloaded by tsmtl; request it at {YAHOO_S5_URL}.",
)

#: Registry family (the part of a key before the first ``/``) -> builder of its entries.
_BUILDERS = {
    "ucr": _ucr_source,
    "uea": _uea_source,
    "ett": _ett_source,
    "physionet2019": _physionet_source,
    "kaggle": _kaggle_source,
}


def source_for(family: str, item: str = "") -> DatasetSource:
    """The registry entry of ``item`` in ``family``, built for names the registry does not list.

    Parameters
    ----------
    family : {"ucr", "uea", "ett", "physionet2019", "kaggle", "yahoo_s5"}
    item : str
        Problem name, ETT file name, PhysioNet set letter (``"A"``) or Kaggle slug; unused
        for ``"yahoo_s5"``. Whether the name exists is checked by the fetcher, not here.

    Returns
    -------
    DatasetSource
        Equal to ``DATASETS[key]`` when the registry lists it (e.g. ``source_for("ucr",
        "ECG200") == DATASETS["ucr/ECG200"]``).

    Raises
    ------
    ValueError
        An unknown family (with the close matches), or a PhysioNet set other than A or B.
    """
    if family == "yahoo_s5":
        return _YAHOO_S5_SOURCE
    if family not in _BUILDERS:
        known = [*_BUILDERS, "yahoo_s5"]
        close = difflib.get_close_matches(family, known, n=2)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown dataset family {family!r}; choose from {known}.{hint}")
    return _BUILDERS[family](item)


def _build_registry() -> dict[str, DatasetSource]:
    sources = [
        *(_ucr_source(name) for name in UCR_PROJECT_DATASETS),
        *(_uea_source(name) for name in UEA_PROJECT_DATASETS),
        *(_ett_source(name) for name in ETT_SHA256),
        *(_physionet_source(letter) for letter in PHYSIONET_SETS),
        *(_kaggle_source(slug) for slug in KAGGLE_DATASETS),
        _YAHOO_S5_SOURCE,
    ]
    return {s.name: s for s in sources}


#: Every dataset the project fetches, keyed by ``"<family>/<name>"``.
DATASETS: dict[str, DatasetSource] = _build_registry()
