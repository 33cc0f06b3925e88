"""Fetch the project's datasets from their official sources, safely.

Every function downloads over HTTP(S) with :mod:`urllib` (no extra dependency),
streams into a temporary file in the destination folder, checks a SHA-256 where
one is known, and only then renames the file into place. Archives are unpacked
with :func:`safe_extract`, which inspects every member before writing anything.
Each ``download_*`` function takes the server address as an argument
(``base_url`` / ``url``) whose default is the official source, so the whole layer
can be tested against a local server.

Sources (also listed in :data:`DATASETS`):

* UCR / UEA archives -- ``https://timeseriesclassification.com/aeon-toolkit/<Name>.zip``,
  the URL aeon 1.6 (``aeon.datasets.download_dataset``) uses.
* ETT -- ``https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/<name>.csv``.
* PhysioNet/CinC Challenge 2019 (sepsis) --
  ``https://physionet.org/files/challenge-2019/1.0.0/training/training_setA/pNNNNNN.psv``.
* Kaggle -- ``https://www.kaggle.com/api/v1/datasets/download/<owner>/<dataset>``
  (HTTP Basic auth with the user's API key).
* Yahoo S5 (Webscope) -- never downloaded: the licence forbids redistribution;
  :func:`register_yahoo_s5` installs the user's own copy.

The papers these datasets serve: UCR problems in the ResNet2D-MTL experiments
(ECG200, CricketX, SemgHand*, UWaveGestureLibraryAll, ...) and ForeClassNet
Sec. 5.1 (ECG5000); the Kaggle stock data in ForeClassNet Sec. 5.2 ("US historical
stock prices with earnings data"); ETT, Yahoo and Sepsis in T-Rep's "Experiments"
section (forecasting on ETTh1/ETTh2/ETTm1/ETTm2; anomaly detection on Yahoo, 367
series, and on the 2019 PhysioNet Sepsis data).
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import http.client
import logging
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

from tsmtl import __version__
from tsmtl.data.errors import DataFormatError

logger = logging.getLogger(__name__)

__all__ = [
    "DATASETS",
    "ETT_BASE_URL",
    "ETT_SHA256",
    "KAGGLE_API_URL",
    "KAGGLE_DATASETS",
    "PHYSIONET_BASE_URL",
    "UCR_BASE_URL",
    "UEA_BASE_URL",
    "YAHOO_S5_DIRNAME",
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
    "register_yahoo_s5",
    "safe_extract",
    "yahoo_s5_instructions",
]

# --------------------------------------------------------------------------- sources

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
ETT_HEADER = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT"

#: Folder that holds ``training_setA/`` and ``training_setB/`` (one ``.psv`` file per patient).
#: PhysioNet serves an HTML index of each folder (what ``wget -r`` follows); the patient list is
#: read from that index. PhysioNet publishes no per-file checksum that could be confirmed here,
#: so every file is checked for the 41-column header instead. Third-party tools (tsdm, TSDB)
#: fetch ``training_setA.zip`` from the legacy host ``archive.physionet.org/users/shared/
#: challenge-2019/``; that host could not be confirmed as current, so it is not used.
PHYSIONET_BASE_URL = "https://physionet.org/files/challenge-2019/1.0.0/training"
PHYSIONET_SETS = {"A": "training_setA", "B": "training_setB"}
PHYSIONET_N_COLUMNS = 41  # 40 variables + SepsisLabel (Reyna et al. 2020, Table 1)

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
#: Folder -> (file-name pattern, number of series). 67 + 100 + 100 + 100 = 367 series, the
#: count T-Rep's anomaly-detection experiment reports; the dataset readme names the patterns.
YAHOO_S5_LAYOUT: dict[str, tuple[str, int]] = {
    "A1Benchmark": (r"real_\d+\.csv", 67),
    "A2Benchmark": (r"synthetic_\d+\.csv", 100),
    "A3Benchmark": (r"A3Benchmark-TS\d+\.csv", 100),
    "A4Benchmark": (r"A4Benchmark-TS\d+\.csv", 100),
}

_USER_AGENT = f"tsmtl/{__version__} (dataset downloader; python-urllib)"
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- errors


class DownloadError(RuntimeError):
    """A download failed; the message names the URL (and the HTTP status, if any).

    Attributes
    ----------
    url : str
    status : int or None
        HTTP status code when the server answered with an error.
    """

    def __init__(self, url: str, message: str, status: int | None = None):
        self.url = url
        self.status = status
        super().__init__(message)


class ChecksumError(DownloadError):
    """The downloaded bytes do not have the expected SHA-256 (nothing was kept)."""

    def __init__(self, url: str, expected: str, actual: str):
        self.expected = expected
        self.actual = actual
        super().__init__(
            url,
            f"SHA-256 mismatch for {url}: expected {expected}, got {actual}. "
            "The download was discarded.",
        )


class MissingCredentialsError(ValueError):
    """Credentials needed for a source (Kaggle) were not given."""


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class DatasetSource:
    """Where one dataset comes from, so pipelines can list what they fetch.

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
        The function of this module that downloads (or installs) it.
    notes : str
    """

    name: str
    urls: tuple[str, ...]
    sha256: tuple[str | None, ...]
    licence: str
    citation: str
    fetch: str
    notes: str = ""

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


def _build_registry() -> dict[str, DatasetSource]:
    sources: list[DatasetSource] = []
    for name in UCR_PROJECT_DATASETS:
        sources.append(
            DatasetSource(
                name=f"ucr/{name}",
                urls=(f"{UCR_BASE_URL}/{name}.zip",),
                sha256=(None,),
                licence="No formal licence; free for research use with citation.",
                citation=_UCR_CITATION,
                fetch="download_ucr",
                notes="No published checksum; the zip is checked to hold <Name>_TRAIN/_TEST files.",
            )
        )
    for name in UEA_PROJECT_DATASETS:
        sources.append(
            DatasetSource(
                name=f"uea/{name}",
                urls=(f"{UEA_BASE_URL}/{name}.zip",),
                sha256=(None,),
                licence="No licence stated for the data; cite the archive.",
                citation=_UEA_CITATION,
                fetch="download_uea",
            )
        )
    for name, digest in ETT_SHA256.items():
        sources.append(
            DatasetSource(
                name=f"ett/{name}",
                urls=(f"{ETT_BASE_URL}/{name}.csv",),
                sha256=(digest,),
                licence="CC BY-ND 4.0 (LICENSE in zhouhaoyi/ETDataset)",
                citation="Zhou, H. et al. Informer: Beyond Efficient Transformer for Long "
                "Sequence Time-Series Forecasting. AAAI 2021.",
                fetch="download_ett",
                notes="" if digest else "Upstream csv checksum unknown (shared copy is a "
                "gzipped third-party mirror); only the header is checked.",
            )
        )
    for letter, folder in PHYSIONET_SETS.items():
        sources.append(
            DatasetSource(
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
            )
        )
    for slug in KAGGLE_DATASETS:
        sources.append(
            DatasetSource(
                name=f"kaggle/{slug}",
                urls=(f"{KAGGLE_API_URL}/datasets/download/{slug}",),
                sha256=(None,),
                licence="As stated on the Kaggle dataset page (not verified here); needs a "
                "Kaggle account and API key.",
                citation=f"Kaggle dataset https://www.kaggle.com/datasets/{slug}",
                fetch="download_kaggle",
            )
        )
    sources.append(
        DatasetSource(
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
    )
    return {s.name: s for s in sources}


#: Every dataset this module can fetch, keyed by ``"<family>/<name>"``.
DATASETS: dict[str, DatasetSource] = _build_registry()


# --------------------------------------------------------------------------- download


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_http_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"only http(s) URLs can be downloaded, got {url!r}")


def _open(url: str, timeout: float, headers: Mapping[str, str] | None = None,
          unredirected_headers: Mapping[str, str] | None = None):  # fmt: skip
    """``urlopen`` with our User-Agent; HTTP/network errors become :class:`DownloadError`."""
    _check_http_url(url)
    request = Request(url, headers={"User-Agent": _USER_AGENT, **(headers or {})})
    for key, value in (unredirected_headers or {}).items():
        # Not repeated on a redirect (e.g. Kaggle -> signed storage URL on another host).
        request.add_unredirected_header(key, value)
    try:
        return urlopen(request, timeout=timeout)
    except HTTPError as err:
        raise DownloadError(
            url, f"HTTP {err.code} {err.reason} for {url}", status=err.code
        ) from err
    except URLError as err:
        raise DownloadError(url, f"could not reach {url}: {err.reason}") from err
    except TimeoutError as err:
        raise DownloadError(url, f"timed out after {timeout} s fetching {url}") from err


def _read_chunks(resp, url: str):
    """Yield the body in chunks; a dropped connection becomes :class:`DownloadError`."""
    while True:
        try:
            chunk = resp.read(_CHUNK)
        except (OSError, http.client.HTTPException) as err:
            raise DownloadError(url, f"connection lost while downloading {url}: {err!r}") from err
        if not chunk:
            return
        yield chunk


def download_file(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    overwrite: bool = False,
    timeout: float = 60,
    *,
    validate: Callable[[Path], None] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying its SHA-256 when given.

    The body is streamed into a temporary file in ``dest``'s folder and renamed
    onto ``dest`` only after every check passed, so ``dest`` is either absent,
    the old file, or the complete new file.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` URL.
    dest : path
        Target file. Its parent folders are created.
    sha256 : str, optional
        Expected hex SHA-256 of the body.
    overwrite : bool, default False
        An existing ``dest`` is never replaced silently: if it exists and its
        SHA-256 equals ``sha256`` it is returned without downloading; otherwise
        :class:`FileExistsError` is raised unless ``overwrite=True``.
    timeout : float, default 60
        Socket timeout in seconds.
    validate : callable, optional
        Called with the temporary file before the rename; raise to reject the
        download (the temporary file is removed).
    headers : mapping, optional
        Extra request headers. They are *not* repeated on redirects.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    ChecksumError
        The body's SHA-256 differs (message names URL, expected and actual).
    DownloadError
        HTTP error status (message names URL and status), unreachable host, or a
        body shorter than its ``Content-Length``.
    FileExistsError
        ``dest`` exists, cannot be confirmed by ``sha256``, and ``overwrite`` is False.
    """
    _check_http_url(url)
    dest = Path(dest)
    expected = sha256.lower() if sha256 else None
    if dest.exists():
        if expected is not None:
            actual = _sha256_of(dest)
            if actual == expected:
                logger.info("%s already present with the expected SHA-256; not downloading", dest)
                return dest
            why = f"its SHA-256 is {actual}, expected {expected}"
        else:
            why = "there is no checksum to confirm it"
        if not overwrite:
            raise FileExistsError(
                f"{dest} already exists and {why}; pass overwrite=True to replace it"
            )
    dest.parent.mkdir(parents=True, exist_ok=True)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        n_bytes = 0
        with os.fdopen(fd, "wb") as out, _open(url, timeout, unredirected_headers=headers) as resp:
            declared = resp.headers.get("Content-Length")
            for chunk in _read_chunks(resp, url):
                out.write(chunk)
                digest.update(chunk)
                n_bytes += len(chunk)
        if declared is not None and declared.isdigit() and n_bytes != int(declared):
            raise DownloadError(
                url, f"incomplete download from {url}: got {n_bytes} of {declared} bytes"
            )
        actual = digest.hexdigest()
        if expected is not None and actual != expected:
            raise ChecksumError(url, expected, actual)
        if validate is not None:
            validate(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    logger.info("downloaded %s -> %s (%d bytes, sha256 %s)", url, dest, n_bytes, actual)
    return dest


# --------------------------------------------------------------------------- extraction


def _archive_kind(path: Path) -> str:
    if zipfile.is_zipfile(path):
        return "zip"
    if tarfile.is_tarfile(path):
        return "tar"
    raise DataFormatError(path, "not a zip or tar archive")


def _member_parts(archive: Path, name: str) -> tuple[str, ...]:
    """Relative path parts of a member name; refuses absolute names and ``..``."""
    unified = name.replace("\\", "/")  # a Windows separator must not smuggle in ".."
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        raise DataFormatError(archive, f"member {name!r} has an absolute path; refusing to extract")
    parts = tuple(p for p in PurePosixPath(unified).parts if p not in ("", "."))
    if ".." in parts:
        raise DataFormatError(archive, f"member {name!r} climbs out with '..'; refusing to extract")
    return parts


def _inside(root: Path, candidate: Path) -> bool:
    return candidate == root or root in candidate.parents


@dataclass
class _Member:
    parts: tuple[str, ...]
    is_dir: bool
    link_kind: str | None  # "sym" or "hard" (tar only)


def _plan_members(archive: Path, dest: Path) -> tuple[str, list]:
    """Check every member of ``archive`` against ``dest``; return (kind, members).

    Nothing is written. Raises :class:`DataFormatError` for the first unsafe member.
    """
    kind = _archive_kind(archive)
    root = dest.resolve()
    symlink_parts: set[tuple[str, ...]] = set()
    checked: list[tuple[object, _Member]] = []

    def check_target(name: str, parts: tuple[str, ...]) -> None:
        if not parts:
            return
        # A member inside a folder that this archive creates as a symlink could be written
        # through that link (chained-symlink escape): refuse.
        for i in range(1, len(parts)):
            if parts[:i] in symlink_parts:
                raise DataFormatError(
                    archive, f"member {name!r} lies under a symlink of the same archive; refusing"
                )
        target = (root.joinpath(*parts)).resolve()  # follows symlinks already on disk
        if not _inside(root, target):
            raise DataFormatError(archive, f"member {name!r} would be written outside {dest}")

    if kind == "zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                parts = _member_parts(archive, info.filename)
                check_target(info.filename, parts)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    # zipfile would write it as a plain file holding the link text; a dataset
                    # has no reason to ship links, so refuse rather than guess.
                    raise DataFormatError(archive, f"member {info.filename!r} is a symlink; refusing")
                checked.append((info, _Member(parts, info.is_dir(), None)))
        return kind, checked

    with tarfile.open(archive, "r:*") as tf:
        for info in tf.getmembers():
            parts = _member_parts(archive, info.name)
            check_target(info.name, parts)
            link_kind = None
            if info.issym() or info.islnk():
                link_kind = "sym" if info.issym() else "hard"
                link = info.linkname.replace("\\", "/")
                if link.startswith("/") or re.match(r"^[A-Za-z]:", link):
                    raise DataFormatError(
                        archive, f"{link_kind}link {info.name!r} -> {info.linkname!r} is absolute; refusing"
                    )
                # Symlinks resolve from the link's folder, hard links from the archive root.
                base = root.joinpath(*parts[:-1]) if info.issym() else root
                target = (base / link).resolve()
                if not _inside(root, target):
                    raise DataFormatError(
                        archive,
                        f"{link_kind}link {info.name!r} -> {info.linkname!r} points outside {dest}; refusing",
                    )
                if info.issym():
                    symlink_parts.add(parts)
            elif not (info.isfile() or info.isdir()):
                raise DataFormatError(
                    archive, f"member {info.name!r} is a device or fifo; refusing to extract"
                )
            checked.append((info, _Member(parts, info.isdir(), link_kind)))
    return kind, checked


def safe_extract(
    archive: str | os.PathLike, dest: str | os.PathLike, overwrite: bool = False
) -> list[Path]:
    """Unpack a zip, tar or tar.gz archive into ``dest`` without escaping it.

    Every member is checked *before anything is written*: absolute names,
    ``..`` components, members that would land outside ``dest`` through a
    symlink already on disk or one created by the archive itself, symlinks or
    hard links whose target is outside ``dest``, zip symlinks, devices and
    fifos are all refused. Existing files are not overwritten unless
    ``overwrite=True``. Tar extraction additionally uses Python's ``"data"``
    extraction filter (PEP 706) as a second line of defence.

    Parameters
    ----------
    archive : path
        A ``.zip``, ``.tar``, ``.tar.gz``/``.tgz`` (any compression tarfile reads).
    dest : path
        Target folder (created).
    overwrite : bool, default False

    Returns
    -------
    list of Path
        The files (and links) written, in archive order; folders are not listed.

    Raises
    ------
    DataFormatError
        Not an archive, or an unsafe member (the message names archive and member).
    FileExistsError
        A member would replace an existing file and ``overwrite`` is False.
    """
    archive = Path(archive)
    dest = Path(dest)
    kind, members = _plan_members(archive, dest)
    root = dest.resolve()
    written = [root.joinpath(*m.parts) for _, m in members if m.parts and not m.is_dir]
    if not overwrite:
        clashes = [p for p in written if p.exists() or p.is_symlink()]
        if clashes:
            shown = ", ".join(str(p) for p in clashes[:3])
            more = f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""
            raise FileExistsError(
                f"extracting {archive} would overwrite {shown}{more}; pass overwrite=True"
            )
    dest.mkdir(parents=True, exist_ok=True)
    if kind == "zip":
        with zipfile.ZipFile(archive) as zf:
            for info, member in members:
                target = root.joinpath(*member.parts)
                if member.is_dir or not member.parts:
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_symlink():
                    target.unlink()  # overwrite=True: replace the link, never write through it
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
    else:
        with tarfile.open(archive, "r:*") as tf:
            infos = [info for info, _ in members]
            if overwrite:
                for p in written:
                    if p.is_symlink():
                        p.unlink()
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            try:
                tf.extractall(root, members=infos, **kwargs)
            except tarfile.FilterError as err:  # pragma: no cover - caught by the plan above
                raise DataFormatError(archive, f"unsafe member refused: {err}") from err
    logger.info("extracted %d files from %s into %s", len(written), archive, dest)
    return written


# --------------------------------------------------------------------------- helpers


def _move_tree(src: Path, dst: Path, overwrite: bool) -> list[Path]:
    """Move every file under ``src`` to the same relative place under ``dst``."""
    files = sorted(p for p in src.rglob("*") if p.is_file() or p.is_symlink())
    targets = [dst / p.relative_to(src) for p in files]
    if not overwrite:
        clashes = [t for t in targets if t.exists() or t.is_symlink()]
        if clashes:
            raise FileExistsError(
                f"{clashes[0]} already exists ({len(clashes)} file(s) would be replaced); "
                "pass overwrite=True"
            )
    for source, target in zip(files, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    return targets


def _require_zip(url: str) -> Callable[[Path], None]:
    def check(path: Path) -> None:
        if not zipfile.is_zipfile(path):
            head = path.read_bytes()[:80]
            raise DataFormatError(
                url,
                f"the server did not send a zip archive (first bytes: {head!r}); "
                "is the dataset name right?",
            )

    return check


def _staging_dir(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".tsmtl-download-", dir=dest))


# --------------------------------------------------------------------------- UCR / UEA


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
    staging = _staging_dir(dest)
    try:
        zip_path = download_file(url, staging / f"{name}.zip", timeout=timeout, validate=_require_zip(url))
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
        _move_tree(root, target, overwrite)
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


# --------------------------------------------------------------------------- ETT


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


# --------------------------------------------------------------------------- PhysioNet 2019


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
    with _open(index_url, timeout) as resp:
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


# --------------------------------------------------------------------------- Kaggle

_KAGGLE_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KAGGLE_HELP = (
    "Kaggle needs an API key. Create one at https://www.kaggle.com/settings (API -> "
    "'Create New Token') and put it in conf/local/credentials.yml (never committed):\n"
    "  kaggle:\n    username: <your Kaggle user name>\n    key: <the key from kaggle.json>\n"
    "or set the environment variables KAGGLE_USERNAME and KAGGLE_KEY."
)


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
        ``"<owner>/<dataset>"``, e.g. one of :data:`KAGGLE_DATASETS`.
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
    staging = _staging_dir(dest)
    try:
        try:
            zip_path = download_file(url, staging / "dataset.zip", timeout=timeout,
                                     validate=_require_zip(url),
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
        _move_tree(unpacked, target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- Yahoo S5


def _pattern_example(pattern: str) -> str:
    """``r"real_\\d+\\.csv"`` -> ``"real_<n>.csv"``."""
    return pattern.replace(r"\d+", "<n>").replace("\\", "")


def yahoo_s5_instructions() -> str:
    """How to obtain Yahoo S5 (we never download or redistribute it)."""
    layout = "\n".join(
        f"    {folder}/  {count} files named {_pattern_example(pattern)}"
        for folder, (pattern, count) in YAHOO_S5_LAYOUT.items()
    )
    return (
        "Yahoo S5 - A Labeled Anomaly Detection Dataset, version 1.0 "
        f"({YAHOO_S5_DIRNAME}).\n"
        "Licence: Yahoo Webscope. It is provided for approved non-commercial research to "
        "recipients who have signed a data sharing agreement with Yahoo, and it is not to be "
        "redistributed. tsmtl therefore never downloads it and it must not be committed.\n"
        f"1. Request it (Yahoo account, accept the agreement) at {YAHOO_S5_URL}\n"
        f"2. Download the archive ({YAHOO_S5_DIRNAME}.tgz or similar) to your machine.\n"
        "3. Register it:  from tsmtl.data.download import register_yahoo_s5\n"
        "                 register_yahoo_s5('/path/to/the/archive-or-folder', '<data dir>/yahoo_s5')\n"
        "Expected layout (367 series):\n" + layout
    )


def _yahoo_prefix(source: str | Path, names: Iterable[str]) -> tuple[str, ...]:
    """The path parts above ``A1Benchmark`` .. ``A4Benchmark``; checks the file counts."""
    per_folder: dict[tuple[tuple[str, ...], str], set[str]] = {}
    for name in names:
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if len(parts) >= 2 and parts[-2] in YAHOO_S5_LAYOUT:
            per_folder.setdefault((parts[:-2], parts[-2]), set()).add(parts[-1])
    prefixes = {prefix for prefix, _ in per_folder}
    if not prefixes:
        raise DataFormatError(source, "no A1Benchmark..A4Benchmark folders found; is this Yahoo S5 "
                              f"({YAHOO_S5_DIRNAME})?")  # fmt: skip
    if len(prefixes) > 1:
        raise DataFormatError(source, f"Yahoo S5 folders found in several places: {sorted(prefixes)}")
    prefix = prefixes.pop()
    problems = []
    for folder, (pattern, count) in YAHOO_S5_LAYOUT.items():
        files = per_folder.get((prefix, folder), set())
        n = sum(1 for f in files if re.fullmatch(pattern, f))
        if n != count:
            problems.append(f"{folder}: {n} files matching {pattern} (expected {count})")
    if problems:
        raise DataFormatError(source, "not the Yahoo S5 layout: " + "; ".join(problems))
    return prefix


def register_yahoo_s5(local_path: str | os.PathLike, dest: str | os.PathLike, overwrite: bool = False) -> Path:
    """Install the user's own copy of Yahoo S5 under ``dest`` (never downloaded).

    Parameters
    ----------
    local_path : path
        The archive from Yahoo Webscope (tar, tar.gz/tgz or zip) or a folder that
        holds ``A1Benchmark/`` .. ``A4Benchmark/`` (directly or one level down).
    dest : path
        Folder that receives ``ydata-labeled-time-series-anomalies-v1_0/``.
    overwrite : bool, default False

    Returns
    -------
    Path
        ``<dest>/ydata-labeled-time-series-anomalies-v1_0`` holding the four
        benchmark folders: extracted (archive) or a symlink to the folder (no copy).

    Raises
    ------
    DataFormatError
        The layout is not A1 (67 ``real_N.csv``), A2 (100 ``synthetic_N.csv``),
        A3 (100 ``A3Benchmark-TSN.csv``), A4 (100 ``A4Benchmark-TSN.csv``).
    FileNotFoundError
        ``local_path`` does not exist.
    """
    source = Path(local_path).expanduser()
    dest = Path(dest)
    target = dest / YAHOO_S5_DIRNAME
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist.\n\n{yahoo_s5_instructions()}")
    if source.is_dir():
        names = [p.relative_to(source).as_posix() for p in source.rglob("*.csv")]
        prefix = _yahoo_prefix(source, names)
        root = source.joinpath(*prefix).resolve()
        if target.is_symlink() and target.resolve() == root:
            return target
        if target.exists() or target.is_symlink():
            if not overwrite:
                raise FileExistsError(f"{target} already exists; pass overwrite=True to replace it")
            if target.is_symlink() or target.is_file():
                target.unlink()
            else:
                shutil.rmtree(target)
        dest.mkdir(parents=True, exist_ok=True)
        target.symlink_to(root, target_is_directory=True)
        return target

    kind = _archive_kind(source)
    if kind == "zip":
        with zipfile.ZipFile(source) as zf:
            names = zf.namelist()
    else:
        with tarfile.open(source, "r:*") as tf:
            names = [m.name for m in tf.getmembers() if m.isfile()]
    prefix = _yahoo_prefix(source, names)
    staging = _staging_dir(dest)
    try:
        safe_extract(source, staging / "unpacked")
        _move_tree((staging / "unpacked").joinpath(*prefix), target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
