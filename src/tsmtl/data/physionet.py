"""PhysioNet/CinC Challenge 2019 sepsis data (the T-Rep paper's segment anomaly-detection data).

One ``.psv`` file per ICU stay (``p000001.psv`` ...): a pipe-separated header of the 41
columns in :data:`PHYSIONET_COLUMNS`, then one row per hour, ``NaN`` for a missing value.
Reference: Reyna et al., "Early prediction of sepsis from clinical data: the PhysioNet/
Computing in Cardiology Challenge 2019", Crit Care Med 48(2):210-217 (2020),
doi:10.13026/v64v-d857.

T-Rep (Fraikin et al., ICLR 2024, appendix "Sepsis" of the anomaly-detection section) uses it
as follows, implemented by :func:`tsmtl.data.preprocessing.physionet_last_hours`: forward-fill every missing value per
patient, keep the last 45 hours of each stay, and keep ten features (:data:`PAPER_FEATURES`),
giving ``X`` of shape ``(n_patients, 45, 10)`` in the paper's notation.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from tsmtl.data.errors import DataFormatError, DataNotFoundError

PHYSIONET_COLUMNS: tuple[str, ...] = (
    # vital signs (8)
    "HR", "O2Sat", "Temp", "SBP", "MAP", "DBP", "Resp", "EtCO2",
    # laboratory values (26)
    "BaseExcess", "HCO3", "FiO2", "pH", "PaCO2", "SaO2", "AST", "BUN", "Alkalinephos",
    "Calcium", "Chloride", "Creatinine", "Bilirubin_direct", "Glucose", "Lactate",
    "Magnesium", "Phosphate", "Potassium", "Bilirubin_total", "TroponinI", "Hct", "Hgb",
    "PTT", "WBC", "Fibrinogen", "Platelets",
    # demographics and administrative (6), then the hourly label
    "Age", "Gender", "Unit1", "Unit2", "HospAdmTime", "ICULOS",
    "SepsisLabel",
)  # fmt: skip
"""The 41 columns of every ``.psv`` file, in file order."""

PAPER_FEATURES: tuple[str, ...] = (
    "HR", "Temp", "Resp", "MAP", "Creatinine", "Bilirubin_direct", "Glucose", "Lactate",
    "Age", "ICULOS",
)  # fmt: skip
"""The ten features T-Rep keeps for Sepsis, in the paper's order.

T-Rep, appendix on anomaly detection ("Sepsis"): "We then subselect ten features based on
medical relevance ('HR', 'Temp', 'Resp', 'MAP', 'Creatinine', 'Bilirubin direct', 'Glucose',
'Lactate', 'Age', 'ICULOS')". The paper's 'Bilirubin direct' is the file column
``Bilirubin_direct``.
"""

PAPER_N_HOURS = 45
"""T-Rep keeps "the last 45 hours of each patient in the ICU"."""

_N_FIELDS = len(PHYSIONET_COLUMNS)
_HEADER = "|".join(PHYSIONET_COLUMNS)
_PATIENT_FILE = re.compile(r"(?:^|/)(p\d+)\.psv$")


# --------------------------------------------------------------------------- parsing helpers
def _check_header(header: str, where: str) -> None:
    """Raise a DataFormatError that says which columns are wrong when ``header`` is not the 41."""
    header = header.strip().lstrip("\ufeff")
    if header == _HEADER:
        return
    found = header.split("|")
    missing = [c for c in PHYSIONET_COLUMNS if c not in found]
    unexpected = [c for c in found if c not in PHYSIONET_COLUMNS]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if unexpected:
            parts.append(f"unexpected columns {unexpected}")
        detail = "; ".join(parts)
    elif len(found) != _N_FIELDS:
        duplicated = sorted({c for c in found if found.count(c) > 1})
        detail = f"duplicated columns {duplicated}"
    else:
        first = next(i for i, (a, b) in enumerate(zip(found, PHYSIONET_COLUMNS)) if a != b)
        detail = (
            f"columns out of order: column {first + 1} is {found[first]!r}, expected "
            f"{PHYSIONET_COLUMNS[first]!r}"
        )
    raise DataFormatError(where, f"not a PhysioNet 2019 header ({detail})", line=1)


def _split_member(raw: bytes, where: str) -> tuple[bytes, int]:
    """Check one file's header and row shapes; return its data rows (bytes) and their count.

    Fast path for the whole archive: only ``bytes`` methods (C speed), no per-value Python.
    A file must have the 41-column header, at least one data row, 41 fields on every row
    and no blank line before the last row. Values are parsed later by pandas.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    raw = raw.replace(b"\r\n", b"\n")
    if not raw.strip():
        raise DataFormatError(where, "empty file (expected a 41-column '|'-separated header)")
    header, _, body = raw.partition(b"\n")
    try:
        _check_header(header.decode("utf-8"), where)
    except UnicodeDecodeError:
        raise DataFormatError(where, "header is not UTF-8 text", line=1) from None
    body = body.rstrip(b"\n")
    if not body:
        raise DataFormatError(where, "header but no data rows")
    body += b"\n"
    n_rows = body.count(b"\n")
    if b"\n\n" in body or body.count(b"|") != (_N_FIELDS - 1) * n_rows:
        # Slow path only on bad input: find the first offending line.
        for i, line in enumerate(body.split(b"\n")[:-1]):
            n_fields = line.count(b"|") + 1
            if not line.strip():
                raise DataFormatError(where, "blank line inside the data", line=i + 2)
            if n_fields != _N_FIELDS:
                raise DataFormatError(where, f"expected {_N_FIELDS} fields, found {n_fields}", line=i + 2)
    return body, n_rows


def _locate_bad_value(body: bytes, where: str) -> DataFormatError | None:
    """The first non-numeric value of ``body`` (data rows; the header is line 1), if any."""
    for i, line in enumerate(body.decode("utf-8", errors="replace").split("\n")[:-1]):
        for column, value in zip(PHYSIONET_COLUMNS, line.split("|")):
            try:
                float(value)
            except ValueError:
                return DataFormatError(where, f"non-numeric value {value!r} in column {column!r}", line=i + 2)
    return None


def _parse_bodies(bodies: list[bytes], wheres: list[str]) -> pd.DataFrame:
    """One pandas call for all the data rows of many files; on a bad value, name file and line."""
    try:
        return pd.read_csv(
            io.BytesIO(b"".join(bodies)),
            sep="|",
            header=None,
            names=list(PHYSIONET_COLUMNS),
            dtype=np.float64,
            engine="c",
            float_precision="round_trip",  # correctly rounded, like float(); ~2 s more on set A
            na_filter=True,
            skip_blank_lines=False,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        for body, where in zip(bodies, wheres):
            error = _locate_bad_value(body, where)
            if error is not None:
                raise error from None
        raise DataFormatError(wheres[0] if len(wheres) == 1 else ", ".join(wheres[:3]) + ", ...", f"cannot parse values: {exc}") from None


#: Columns whose values are codes (Reyna et al. 2020, Table 1): 0 or 1; NaN allowed where noted.
_BINARY_COLUMNS = {"SepsisLabel": False, "Gender": True, "Unit1": True, "Unit2": True}
_AGE_RANGE = (0.0, 100.0)  # years; the challenge writes 100 for patients aged 90 or above


def _check_domains(values: pd.DataFrame, wheres: list[str], counts: np.ndarray) -> None:
    """Refuse values outside the challenge's definitions, naming the file, line and column.

    Rows of file ``k`` are ``values`` rows ``starts[k] .. starts[k] + counts[k]``; its data row
    ``j`` is line ``j + 2``. Checked (Reyna et al. 2020, Table 1 and the data description):
    no infinite value; ``SepsisLabel`` 0 or 1 on every hour (never missing: it is the label);
    ``Gender`` (0 female, 1 male), ``Unit1``/``Unit2`` (MICU / SICU) 0, 1 or missing;
    ``Age`` in [0, 100] or missing; ``ICULOS`` (hours since ICU admission) a whole number
    >= 1 on every row, one more on each row than on the previous (one row per hour).
    """
    ends = np.cumsum(counts)
    starts = ends - counts

    def refuse(row: int, column: str, why: str) -> None:
        k = int(np.searchsorted(ends, row, side="right"))
        cell = values[column].iloc[row]
        raise DataFormatError(wheres[k], f"column {column!r}: {cell:g} {why}", line=row - int(starts[k]) + 2)

    numbers = values[list(PHYSIONET_COLUMNS)].to_numpy()
    infinite = np.argwhere(np.isinf(numbers))
    if infinite.size:
        row, column = (int(v) for v in infinite[0])
        refuse(row, PHYSIONET_COLUMNS[column], "is infinite (NaN marks a missing value)")
    for column, may_be_missing in _BINARY_COLUMNS.items():
        cells = values[column].to_numpy()
        bad = ~np.isin(cells, (0.0, 1.0))
        if may_be_missing:
            bad &= ~np.isnan(cells)
        if bad.any():
            what = "is not 0 or 1" + (" (or NaN for missing)" if may_be_missing else " (the hourly label is never missing)")
            refuse(int(np.flatnonzero(bad)[0]), column, what)
    age = values["Age"].to_numpy()
    bad = (age < _AGE_RANGE[0]) | (age > _AGE_RANGE[1])
    if bad.any():
        refuse(int(np.flatnonzero(bad)[0]), "Age", f"is outside [{_AGE_RANGE[0]:g}, {_AGE_RANGE[1]:g}] years")
    hours = values["ICULOS"].to_numpy()
    bad = ~(hours >= 1) | (hours != np.round(hours))
    if bad.any():
        refuse(int(np.flatnonzero(bad)[0]), "ICULOS", "is not a whole number of hours >= 1")
    step = np.diff(hours)
    step_inside = np.ones(len(step), dtype=bool)
    step_inside[starts[1:] - 1] = False  # from one file's last row to the next file's first (no file is empty)
    bad = np.flatnonzero(step_inside & (step != 1))
    if bad.size:
        row = int(bad[0]) + 1
        refuse(row, "ICULOS", f"follows {hours[row - 1]:g}; each row is the next hour (ICULOS + 1)")


# --------------------------------------------------------------------------- public readers
def read_psv(path_or_fileobj: str | os.PathLike | BinaryIO, name: str | None = None) -> pd.DataFrame:
    """Read one patient's ``.psv`` file.

    Parameters
    ----------
    path_or_fileobj : path or binary file object
        A ``pNNNNNN.psv`` file (or an open binary stream of one, e.g. an archive member).
    name : str, optional
        Name used in error messages; default: the path, or the stream's ``name``.

    Returns
    -------
    pd.DataFrame
        ``n_hours`` rows and the 41 columns of :data:`PHYSIONET_COLUMNS`, all float64,
        ``NaN`` where a value is missing; rows in file order.

    Raises
    ------
    DataFormatError
        Wrong header (naming the missing/unexpected/misplaced columns), a row without 41
        fields, a non-numeric value (with its 1-based line), an empty file, or a value
        outside its definition (column and line named): an infinite value, ``SepsisLabel``
        other than 0/1 (missing included), ``Gender``/``Unit1``/``Unit2`` other than 0/1/NaN,
        ``Age`` outside [0, 100], ``ICULOS`` not 1, 2, 3... hour after hour.
    """
    if hasattr(path_or_fileobj, "read"):
        where = name or str(getattr(path_or_fileobj, "name", "<stream>"))
        raw = path_or_fileobj.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
    else:
        path = Path(path_or_fileobj)
        where = name or str(path)
        if not path.is_file():
            raise DataNotFoundError(f"PhysioNet file not found: {path}")
        raw = path.read_bytes()
    body, n_rows = _split_member(raw, where)
    values = _parse_bodies([body], [where])
    _check_domains(values, [where], np.array([n_rows]))
    values.attrs["source"] = where
    return values


def _iter_members(source: Path) -> Iterator[tuple[str, str, bytes]]:
    """(patient_id, where, raw bytes) for every ``pNNNNNN.psv`` of a folder or a ``.tar.gz``.

    Archives are streamed (``tarfile`` mode ``r|*``): members are read straight from the
    compressed stream, nothing is extracted to disk.
    """
    if source.is_dir():
        for path in sorted(source.glob("*.psv")):
            match = _PATIENT_FILE.search(path.name)
            yield (match.group(1) if match else path.stem), str(path), path.read_bytes()
        return
    try:
        with tarfile.open(source, mode="r|*") as archive:
            for member in archive:
                if not member.isfile() or not member.name.endswith(".psv"):
                    continue
                match = _PATIENT_FILE.search(member.name)
                patient_id = match.group(1) if match else Path(member.name).stem
                handle = archive.extractfile(member)
                yield patient_id, f"{source}::{member.name}", handle.read() if handle else b""
    except tarfile.TarError as exc:
        raise DataFormatError(source, f"not a readable tar archive ({exc})") from None


def load_physionet(source: str | os.PathLike, max_patients: int | None = None) -> pd.DataFrame:
    """Read every patient of a PhysioNet 2019 training set into one long frame.

    Parameters
    ----------
    source : path
        A folder of ``*.psv`` files (e.g. ``training_setA/``) or a ``.tar.gz``/``.tar`` of
        them (e.g. ``physionet2019_sepsis/training_setA.tar.gz``), read straight from the
        archive without extraction.
    max_patients : int, optional
        Keep only the first ``max_patients`` patients by sorted id (the whole source is still
        scanned, so that "first" does not depend on the archive's member order).

    Returns
    -------
    pd.DataFrame
        Column ``patient_id`` (str, e.g. ``"p000001"``) then the 41 float64 columns of
        :data:`PHYSIONET_COLUMNS`; one row per ICU hour, patients sorted by id, each
        patient's rows in file order. Training set A: 20,336 patients, 790,215 rows.
        ``attrs["source"]`` is ``source`` (later errors name it).

    Raises
    ------
    DataNotFoundError
        ``source`` does not exist.
    DataFormatError
        Any file is malformed or holds a value outside its definition, as in
        :func:`read_psv` (the message names ``archive::member``, the line and the column),
        the source holds no ``.psv`` file, or the same patient id appears twice.
    """
    source = Path(source)
    if not source.exists():
        raise DataNotFoundError(
            f"PhysioNet 2019 data not found at {source}. Expected a folder of pNNNNNN.psv files "
            "or training_setA.tar.gz (see shared/data/SOURCES.md, section 3; set TSMTL_DATA_DIR)."
        )
    if max_patients is not None and max_patients < 0:
        raise ValueError(f"max_patients must be >= 0, got {max_patients}")

    # patient_id -> (where, data rows, n_rows); parsing of values is deferred to one pandas call.
    members: dict[str, tuple[str, bytes, int]] = {}
    for patient_id, where, raw in _iter_members(source):
        if patient_id in members:
            raise DataFormatError(where, f"patient {patient_id} appears twice (also {members[patient_id][0]})")
        body, n_rows = _split_member(raw, where)
        members[patient_id] = (where, body, n_rows)
        if max_patients is not None and len(members) > 2 * max_patients + 1000:
            # Bound memory: keep only the smallest ids seen so far.
            members = {k: members[k] for k in sorted(members)[:max_patients]}
    if not members:
        raise DataFormatError(source, "no .psv files found")

    patient_ids = sorted(members)
    if max_patients is not None:
        patient_ids = patient_ids[:max_patients]
    if not patient_ids:
        return pd.DataFrame(
            {"patient_id": pd.Series([], dtype=str), **{c: pd.Series([], dtype=np.float64) for c in PHYSIONET_COLUMNS}}
        )
    wheres = [members[p][0] for p in patient_ids]
    bodies = [members[p][1] for p in patient_ids]
    counts = np.array([members[p][2] for p in patient_ids], dtype=np.int64)
    values = _parse_bodies(bodies, wheres)
    _check_domains(values, wheres, counts)
    values.insert(0, "patient_id", pd.Series(np.repeat(np.array(patient_ids, dtype=object), counts), dtype=str))
    values.attrs["source"] = str(source)
    return values
