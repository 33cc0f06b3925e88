"""Install the user's own copy of Yahoo S5 (licence-bound: never downloaded by tsmtl).

Yahoo Webscope's "S5 - A Labeled Anomaly Detection Dataset" may not be redistributed:
:func:`yahoo_s5_instructions` says how to request it, :func:`register_yahoo_s5` checks
the 367-series layout of the user's archive or folder and installs it where
:mod:`tsmtl.data.yahoo` reads it. Serves T-Rep's anomaly-detection experiment on Yahoo;
split out of ``tsmtl/data/download.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from tsmtl.data.download.extract import archive_kind, move_tree, safe_extract, staging_dir
from tsmtl.data.download.sources import YAHOO_S5_DIRNAME, YAHOO_S5_URL
from tsmtl.data.errors import DataFormatError

__all__ = ["YAHOO_S5_LAYOUT", "register_yahoo_s5", "yahoo_s5_instructions"]

#: Folder -> (file-name pattern, number of series). 67 + 100 + 100 + 100 = 367 series, the
#: count T-Rep's anomaly-detection experiment reports; the dataset readme names the patterns.
YAHOO_S5_LAYOUT: dict[str, tuple[str, int]] = {
    "A1Benchmark": (r"real_\d+\.csv", 67),
    "A2Benchmark": (r"synthetic_\d+\.csv", 100),
    "A3Benchmark": (r"A3Benchmark-TS\d+\.csv", 100),
    "A4Benchmark": (r"A4Benchmark-TS\d+\.csv", 100),
}


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

    kind = archive_kind(source)
    if kind == "zip":
        with zipfile.ZipFile(source) as zf:
            names = zf.namelist()
    else:
        with tarfile.open(source, "r:*") as tf:
            names = [m.name for m in tf.getmembers() if m.isfile()]
    prefix = _yahoo_prefix(source, names)
    staging = staging_dir(dest)
    try:
        safe_extract(source, staging / "unpacked")
        move_tree((staging / "unpacked").joinpath(*prefix), target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
