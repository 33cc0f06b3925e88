"""The ``.ts`` header, read and checked tag by tag before aeon parses the data.

Grammar (the sktime/aeon ``.ts`` format: Bagnall et al., "The UEA multivariate time series
classification archive, 2018", arXiv:1811.00075; aeon 1.6 ``aeon.datasets._data_loaders``,
``_load_header_info``): lines before ``@data`` are blank, ``#`` comments or tags
``@<name> <values>``; tag names and values are case-insensitive (aeon lower-cases every line).
Comments start with ``#``, or ``%`` as in ARFF (aeon's own ``UnitTest`` files use it).

=====================  ==============================================================
tag                    value
=====================  ==============================================================
``@problemName``       one word (no blank)
``@timeStamps``        ``true`` or ``false``
``@missing``           ``true`` or ``false``
``@univariate``        ``true`` or ``false``
``@dimensions``        a positive integer (aeon's writer spells it ``@dimension``)
``@equalLength``       ``true`` or ``false``
``@seriesLength``      a positive integer
``@classLabel``        ``false``, or ``true`` followed by the distinct class labels
``@targetLabel``       ``true`` or ``false`` (regression target instead of a class)
``@data``              nothing; the cases follow, one per line
=====================  ==============================================================

aeon itself ignores a boolean it cannot read (``@missing yes`` keeps the default), any
unknown tag and ``@dimensions``/``@seriesLength`` altogether; :func:`read_ts_header` refuses
each of those, naming the file, the line and the tag. No tag is required (aeon has defaults:
``@univariate``, ``@equalLength`` and ``@classLabel`` default to true, the others to false).
A tag given twice must carry the same value, except ``@problemName`` (aeon's own
``UnitTest_TEST.ts`` names two problems; the last wins, as in aeon).

:func:`check_cases_against_header` then compares what the header declares with the cases
aeon read (channels, lengths, missing values, labels), naming the case's line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tsmtl.data.errors import DataFormatError

__all__ = ["TsHeader", "read_ts_header", "check_cases_against_header"]

#: lower-case tag -> how the spec spells it (used in messages).
_SPELLING = {
    "problemname": "@problemName",
    "timestamps": "@timeStamps",
    "missing": "@missing",
    "univariate": "@univariate",
    "dimensions": "@dimensions",
    "dimension": "@dimensions",
    "equallength": "@equalLength",
    "serieslength": "@seriesLength",
    "classlabel": "@classLabel",
    "targetlabel": "@targetLabel",
    "data": "@data",
}
_BOOLEAN = ("timestamps", "missing", "univariate", "equallength", "targetlabel")
_INTEGER = ("dimensions", "serieslength")
#: aeon's defaults when a tag is absent (``_load_header_info``).
_AEON_DEFAULTS = {"univariate": True, "equallength": True, "classlabel": True}


@dataclass(frozen=True)
class TsHeader:
    """What a ``.ts`` header declares; ``None`` where the tag is absent.

    Attributes
    ----------
    values : dict
        Lower-case tag (``"equallength"``, ``"dimensions"`` -- ``@dimension`` is stored under
        ``"dimensions"``) -> bool, int or str.
    class_values : tuple of str
        The labels after ``@classLabel true``, lower-cased as aeon reads them.
    lines : dict
        Lower-case tag -> 1-based line where it was (last) given.
    data_line : int
        1-based line of ``@data``; case ``i`` (0-based) is on line ``data_line + 1 + i``.
    """

    values: dict[str, bool | int | str] = field(default_factory=dict)
    class_values: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)
    data_line: int = 0

    def effective(self, tag: str) -> bool | int | str | None:
        """The declared value, else aeon's default (true for univariate, equalLength, classLabel)."""
        if tag == "classlabel" and self.values.get("targetlabel") is True:
            return False
        return self.values.get(tag, _AEON_DEFAULTS.get(tag))

    def cite(self, tag: str) -> str:
        """How a message quotes a tag: ``'@equalLength true' (line 6)`` or that aeon assumed it."""
        spelling = _SPELLING[tag]
        if tag not in self.values:
            default = _AEON_DEFAULTS.get(tag)
            return (
                f"no {spelling} tag (aeon then assumes {str(default).lower()})" if default is not None else f"no {spelling} tag"
            )
        value = self.values[tag]
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        return f"'{spelling} {shown}' (line {self.lines[tag]})"

    @property
    def has_label(self) -> bool:
        """True when every case ends with a label field (a class or a regression target)."""
        return bool(self.effective("classlabel") or self.effective("targetlabel"))

    def case_line(self, case: int) -> int:
        """1-based file line of 0-based case ``case``."""
        return self.data_line + 1 + case


def _parse_value(tag: str, tokens: list[str], path: Path, number: int) -> bool | int | str:
    spelling = _SPELLING[tag]
    if tag == "problemname":
        if len(tokens) != 1:
            raise DataFormatError(path, f"{spelling} needs one name without blanks, got {' '.join(tokens)!r}", line=number)
        return tokens[0]
    if len(tokens) != 1:
        what = "one value" if tag in _INTEGER else "one value, true or false"
        raise DataFormatError(path, f"{spelling} needs {what}, got {' '.join(tokens)!r}", line=number)
    token = tokens[0]
    if tag in _BOOLEAN:
        if token.lower() not in ("true", "false"):
            raise DataFormatError(path, f"{spelling} must be true or false, got {token!r}", line=number)
        return token.lower() == "true"
    if not token.isdigit() or int(token) < 1:  # isdigit: no sign, no decimal point
        raise DataFormatError(path, f"{spelling} must be a positive integer, got {token!r}", line=number)
    return int(token)


def read_ts_header(path: str | Path) -> TsHeader:
    """Read and check the header of a ``.ts`` file (every line up to ``@data``).

    Raises
    ------
    DataFormatError
        Naming the file, the line and the tag: a line that is not a tag or comment, an
        unknown tag, a boolean other than true/false, a non-positive or non-integer
        ``@dimensions``/``@seriesLength``, ``@problemName`` without one word, ``@classLabel
        true`` without labels or with a label twice, ``@classLabel false`` followed by labels,
        a value after ``@data``, a tag repeated with another value, contradicting tags
        (``@univariate true`` with ``@dimensions`` above 1, ``@classLabel true`` with
        ``@targetLabel true``), no ``@data`` line, or a header that is not UTF-8.
    """
    path = Path(path)
    header = TsHeader()
    try:
        with open(path, encoding="utf-8") as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.strip()
                if not line or line.startswith(("#", "%")):
                    continue
                if not line.startswith("@"):
                    raise DataFormatError(path, f"header line {line[:40]!r} is neither an @-tag nor a #/% comment", line=number)
                tag, *tokens = line.split()
                key = tag[1:].lower()
                if key not in _SPELLING:
                    known = ", ".join(dict.fromkeys(_SPELLING.values()))
                    raise DataFormatError(path, f"unknown tag {tag!r} (the .ts tags are {known})", line=number)
                key = "dimensions" if key == "dimension" else key
                if key == "data":
                    if tokens:
                        raise DataFormatError(path, f"@data takes no value, got {' '.join(tokens)!r}", line=number)
                    _check_header_consistency(header, path)
                    return TsHeader(header.values, header.class_values, header.lines, number)
                if key == "classlabel":
                    value, labels = _parse_class_label(tokens, path, number)
                    if "classlabel" in header.values and (header.values["classlabel"], header.class_values) != (value, labels):
                        raise DataFormatError(
                            path, f"@classLabel given twice with different values (also line {header.lines[key]})", line=number
                        )
                    header = TsHeader({**header.values, key: value}, labels, {**header.lines, key: number})
                    continue
                value = _parse_value(key, tokens, path, number)
                if key in header.values and key != "problemname" and header.values[key] != value:
                    raise DataFormatError(
                        path, f"{_SPELLING[key]} given twice with different values (also line {header.lines[key]})", line=number
                    )
                header = TsHeader({**header.values, key: value}, header.class_values, {**header.lines, key: number})
    except UnicodeDecodeError as error:
        raise DataFormatError(path, f"not UTF-8 text ({error})") from None
    raise DataFormatError(path, "no @data line (the header must end with @data before the cases)")


def _parse_class_label(tokens: list[str], path: Path, number: int) -> tuple[bool, tuple[str, ...]]:
    if not tokens or tokens[0].lower() not in ("true", "false"):
        got = tokens[0] if tokens else "nothing"
        raise DataFormatError(path, f"@classLabel must be true (followed by the labels) or false, got {got!r}", line=number)
    if tokens[0].lower() == "false":
        if len(tokens) > 1:
            raise DataFormatError(path, f"@classLabel false takes no labels, got {' '.join(tokens[1:])!r}", line=number)
        return False, ()
    labels = [token.lower() for token in tokens[1:]]  # aeon lower-cases the labels of the cases too
    if not labels:
        raise DataFormatError(path, "@classLabel true needs the list of class labels after it", line=number)
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise DataFormatError(path, f"@classLabel lists {repeated} more than once", line=number)
    return True, tuple(labels)


def _check_header_consistency(header: TsHeader, path: Path) -> None:
    values, lines = header.values, header.lines
    if values.get("univariate") is True and values.get("dimensions", 1) != 1:
        raise DataFormatError(
            path, f"{header.cite('univariate')} contradicts {header.cite('dimensions')}", line=lines["dimensions"]
        )
    if values.get("classlabel") is True and values.get("targetlabel") is True:
        raise DataFormatError(
            path,
            f"'@classLabel true' (line {lines['classlabel']}) contradicts {header.cite('targetlabel')}: "
            "a case has one label, a class or a regression target",
            line=lines["targetlabel"],
        )


def _case_widths(cases: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(n_channels, n_values) of every case: aeon gives a 3-D array or a list of (channels, length) arrays."""
    if isinstance(cases, np.ndarray):
        n = cases.shape[0]
        return np.full(n, cases.shape[1]), np.full(n, cases.shape[2])
    return np.array([case.shape[0] for case in cases]), np.array([case.shape[1] for case in cases])


def check_cases_against_header(
    header: TsHeader, cases: np.ndarray | Sequence[np.ndarray], labels: np.ndarray, path: str | Path
) -> None:
    """Refuse cases that contradict what the header declares (aeon checks only some of it).

    Parameters
    ----------
    header : TsHeader
        From :func:`read_ts_header`.
    cases : array (n_cases, n_channels, n_timepoints) or list of (n_channels, length_i) arrays
        As aeon's ``load_from_ts_file`` returns them (before any NaN padding).
    labels : array (n_cases,)
        aeon's labels (lower-case strings for classes).

    Raises
    ------
    DataFormatError
        Naming the file, the first offending case's line and the tag: more or fewer channels
        than ``@dimensions``, more than one with ``@univariate true``, a length other than
        ``@seriesLength`` (when ``@equalLength`` is true), unequal lengths with ``@equalLength
        true``, a missing value with ``@missing false``, a label not in ``@classLabel``.
    """
    channels, widths = _case_widths(cases)
    if not len(channels):
        return

    def first(bad: np.ndarray) -> int:
        return int(np.flatnonzero(bad)[0])

    if header.effective("univariate") and (channels != 1).any():
        i = first(channels != 1)
        raise DataFormatError(
            path,
            f"case {i + 1} has {channels[i]} channels but the header has {header.cite('univariate')}",
            line=header.case_line(i),
        )
    if "dimensions" in header.values and (channels != header.values["dimensions"]).any():
        i = first(channels != header.values["dimensions"])
        raise DataFormatError(
            path,
            f"case {i + 1} has {channels[i]} channels but the header has {header.cite('dimensions')}",
            line=header.case_line(i),
        )
    if header.effective("equallength"):
        if (widths != widths[0]).any():
            i = first(widths != widths[0])
            raise DataFormatError(
                path,
                f"case {i + 1} has {widths[i]} values per channel, case 1 has {widths[0]}, "
                f"but the header has {header.cite('equallength')}",
                line=header.case_line(i),
            )
        if "serieslength" in header.values and (widths != header.values["serieslength"]).any():
            i = first(widths != header.values["serieslength"])
            raise DataFormatError(
                path,
                f"case {i + 1} has {widths[i]} values per channel but the header has {header.cite('serieslength')}",
                line=header.case_line(i),
            )
    if header.values.get("missing") is False:
        gaps = np.array([bool(np.isnan(case).any()) for case in cases])
        if gaps.any():
            i = first(gaps)
            raise DataFormatError(
                path,
                f"case {i + 1} has a missing value (? or NaN) but the header has {header.cite('missing')}",
                line=header.case_line(i),
            )
    if header.effective("classlabel") and header.class_values:
        declared = set(header.class_values)
        unknown = np.array([str(label) not in declared for label in labels])
        if unknown.any():
            i = first(unknown)
            undeclared = sorted({str(label) for label in labels} - declared)
            raise DataFormatError(
                path,
                f"case {i + 1} has label {str(labels[i])!r}, not in the header's @classLabel list {sorted(declared)} "
                f"(line {header.lines['classlabel']}; undeclared labels: {undeclared[:5]})",
                line=header.case_line(i),
            )
