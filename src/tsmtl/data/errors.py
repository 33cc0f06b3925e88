"""Errors raised by the data layer."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """A data file does not have the format its reader expects.

    The message always names the file and, where it applies, the 1-based line.

    Parameters
    ----------
    path : str or Path
        The offending file (or archive member, written ``archive::member``).
    message : str
        What is wrong.
    line : int, optional
        1-based line number in the file, when the problem is on one line.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class DataNotFoundError(FileNotFoundError):
    """A dataset file or folder is missing; the message says how to get it."""
