"""Safe archive extraction, and installing unpacked files into place.

:func:`safe_extract` unpacks a zip or tar archive after checking *every* member
against the destination first (absolute names, ``..``, links that point outside,
members written through a link, devices), so a malicious archive writes nothing.
The helpers below it are what the fetchers share to install an archive: a staging
folder beside the destination (:func:`staging_dir`), a check that a download is a
zip (:func:`require_zip`), and moving the unpacked files into place without
replacing anything silently (:func:`move_tree`).

Used by the UCR/UEA, Kaggle and Yahoo S5 fetchers (the ResNet2D-MTL, ForeClassNet
and T-Rep data); split out of ``tsmtl/data/download.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tsmtl.data.download.http import CHUNK_BYTES
from tsmtl.data.errors import DataFormatError

logger = logging.getLogger(__name__)

__all__ = ["archive_kind", "move_tree", "require_zip", "safe_extract", "staging_dir"]


def archive_kind(path: Path) -> str:
    """``"zip"`` or ``"tar"`` (any compression :mod:`tarfile` reads); else :class:`DataFormatError`."""
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
    kind = archive_kind(archive)
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
                    shutil.copyfileobj(src, out, CHUNK_BYTES)
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


# --------------------------------------------------------------------------- installing unpacked files


def move_tree(src: Path, dst: Path, overwrite: bool) -> list[Path]:
    """Move every file under ``src`` to the same relative place under ``dst``.

    Nothing moves when a target exists and ``overwrite`` is False (:class:`FileExistsError`
    naming the first clash). Returns the targets, sorted by source path.
    """
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


def require_zip(url: str) -> Callable[[Path], None]:
    """A ``validate`` hook for :func:`~tsmtl.data.download.http.download_file`: the body must be a zip.

    A server that answers 200 with an HTML page (a wrong dataset name) is refused with
    the first bytes of the page in the message.
    """

    def check(path: Path) -> None:
        if not zipfile.is_zipfile(path):
            head = path.read_bytes()[:80]
            raise DataFormatError(
                url,
                f"the server did not send a zip archive (first bytes: {head!r}); "
                "is the dataset name right?",
            )

    return check


def staging_dir(dest: Path) -> Path:
    """A fresh hidden folder inside ``dest`` (created) to download and unpack into.

    On the same file system as ``dest``, so :func:`move_tree` renames instead of copying;
    the caller removes it when done.
    """
    dest.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".tsmtl-download-", dir=dest))
