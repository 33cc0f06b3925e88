"""HTTP(S) downloads verified by SHA-256 and renamed into place only when complete.

Every fetcher of :mod:`tsmtl.data.download` goes through :func:`download_file`: it
downloads with :mod:`urllib` (no extra dependency), streams the body into a temporary
file beside the destination, checks the length the server declared, the SHA-256 where
one is known and an optional ``validate`` hook, and only then renames the file onto the
destination. A failed download leaves nothing behind. There is no retry: a failure is
raised at once, and the callers resume by skipping what is already in place.

Serves the data of every paper of the project (ResNet2D-MTL, ForeClassNet, T-Rep);
split out of ``tsmtl/data/download.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from tsmtl import __version__

logger = logging.getLogger(__name__)

__all__ = ["CHUNK_BYTES", "ChecksumError", "DownloadError", "download_file", "open_url", "sha256_of_file"]

_USER_AGENT = f"tsmtl/{__version__} (dataset downloader; python-urllib)"
#: Bytes read (and hashed, and copied out of archives) at a time.
CHUNK_BYTES = 1 << 20


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


def sha256_of_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in :data:`CHUNK_BYTES` chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_http_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"only http(s) URLs can be downloaded, got {url!r}")


def open_url(url: str, timeout: float, headers: Mapping[str, str] | None = None,
             unredirected_headers: Mapping[str, str] | None = None):  # fmt: skip
    """``urlopen`` with our User-Agent; HTTP/network errors become :class:`DownloadError`.

    ``unredirected_headers`` are sent to ``url`` only, never repeated on a redirect.
    Returns the open response (a context manager).
    """
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


def _read_chunks(resp, url: str) -> Iterator[bytes]:
    """Yield the body in chunks; a dropped connection becomes :class:`DownloadError`."""
    while True:
        try:
            chunk = resp.read(CHUNK_BYTES)
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
            actual = sha256_of_file(dest)
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
        with os.fdopen(fd, "wb") as out, open_url(url, timeout, unredirected_headers=headers) as resp:
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
