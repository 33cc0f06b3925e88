"""Small archives built by tests (readers that stream from .tar.gz)."""

from __future__ import annotations

import io
import tarfile


def make_tar(path, members: dict[str, str]) -> None:
    """Write a gzipped tar at ``path`` holding ``{member name: text}``."""
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
