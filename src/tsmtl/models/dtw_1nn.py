"""Exact DTW and one-nearest-neighbour search under DTW, in numba (the 1NN-DTW baseline's core).

The distance is aeon's (:func:`aeon.distances.dtw_distance`, aeon 1.6), reproduced to the bit:

* point cost ``(x_i - y_j)^2`` summed over channels, no square root at the end;
* ``window``: Sakoe-Chiba band whose half-width is ``int(window * min(n, m))`` cells, ``n, m``
  the two lengths; ``None`` or ``1.0`` is unconstrained; for unequal lengths the band follows
  aeon's interpolated diagonal (:func:`sakoe_chiba_bounds`);
* the dynamic programme runs over the rows of the longer series (the first one when both have
  one length), with aeon's arithmetic (``fastmath``; for one channel the fused
  ``d * d + min(...)``), so every distance equals aeon's exactly (tests compare with ``==``).

Why the project has its own kernel: aeon's ``KNeighborsTimeSeriesClassifier`` computes every
query-train distance in full, one query at a time (its ``n_jobs`` parallelises over the rows
of a one-row matrix, so nothing). On ECG5000's official split (500 x 4,500, length 140) it
takes about 260 s with the full window and about 63 s with window 0.1 on a quiet 2-core
machine. Measured side by side by ``benchmarks/dtw_1nn.py`` (``benchmarks/results/dtw_1nn.md``,
a loaded machine): aeon 647 s / 152 s, this module 5.8 s / 4.9 s on 2 threads (7.5 s / 4.4 s on
one), i.e. 112x / 31x, with identical predictions (accuracy 0.9244 / 0.9251). It uses the
ideas of the UCR Suite (Rakthanmanon et al., "Searching and mining trillions of time series
subsequences under dynamic time warping", KDD 2012), applied to whole-series 1NN:

1. **Lower bounds**, for equal-length series: ``LB_Kim`` on the first and last points (every
   warping path matches them), ``LB_Keogh`` of the query against the envelopes of the training
   series (computed once) and, for the candidates that survive, of the candidate against the
   query's envelope (computed once per query).
2. **Order**: candidates are visited by increasing lower bound, after the one nearest in
   squared Euclidean distance (the diagonal path, so an upper bound of DTW under every window:
   a tight best-so-far from the first visit on); the visit stops at the first bound above the
   best-so-far.
3. **Early abandoning and pruning inside the DP**: a cell whose value plus the lower bound of
   the rows still to come (the cumulative ``LB_Keogh`` terms) exceeds the best-so-far is dead;
   a row starts at the first column a live cell of the previous row can reach and stops after
   the last one (PrunedDTW, Silva & Batista, SDM 2016); a row without a live cell abandons
   the candidate.
4. **Parallel over queries** (``numba.prange``), ``n_jobs`` threads.

Pruning never changes a live cell's value (its minimum predecessor is live), so a completed
distance is aeon's value to the bit; the bound comparisons carry a relative slack of
``1e-9`` against rounding (a bound is never allowed to prune a candidate that ties the
best-so-far).

**Unequal lengths** (NaN-padded ``X`` with ``lengths``): no ``LB_Keogh`` (the envelopes of two
series of different lengths do not line up); candidates are ordered by ``LB_Kim`` (first and
last points, valid for any lengths) and the DP runs on the true lengths with aeon's
interpolated band, early abandoning and pruning as above (without the cumulative bound).

**Ties** (several training series at exactly the minimal distance): aeon 1.6 picks the
neighbour with ``np.argpartition(distances, kth=0, axis=1)[:, 0]`` over the query's full row of
distances. numpy does not promise which of equal values comes first: on a CPU with AVX-512,
numpy 2 uses an unstable SIMD selection that often returns a later index (measured here:
about 4 in 10 random rows with tied minima). ``tie_break="aeon"`` (default) therefore
recomputes the full row of a query with a tie (plain DP, the same values as aeon) and applies
aeon's very call, so the neighbour is aeon's on any machine; ``tie_break="first"`` keeps the
lowest tied index (aeon's documented intent, without the extra row).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numba
import numpy as np
import torch
from numba import njit, prange

#: Relative slack of every lower-bound comparison against the best-so-far (rounding only).
BOUND_SLACK = 1e-9
TIE_BREAKS = ("aeon", "first")


# -- the band -----------------------------------------------------------------------------------
def _check_window(window: float | None) -> float:
    """``window`` as a float in [0, 1]; ``None`` becomes 1.0 (unconstrained, as in aeon)."""
    if window is None:
        return 1.0
    window = float(window)
    if not 0.0 <= window <= 1.0:
        raise ValueError(f"window must be between 0 and 1 (a fraction of the series length) or None, got {window}")
    return window


@njit(cache=True, fastmath=True)
def _band(n_rows: int, n_cols: int, window: float) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``[start[i], end[i])`` of row ``i`` in aeon's Sakoe-Chiba band (see :func:`sakoe_chiba_bounds`)."""
    start = np.zeros(n_rows, dtype=np.int64)
    end = np.full(n_rows, n_cols, dtype=np.int64)
    if window == 1.0:
        return start, end
    thickness = int(window * min(n_rows, n_cols))
    if n_rows == n_cols:
        for i in range(n_rows):
            start[i] = max(0, i - thickness)
            end[i] = min(n_cols, i + thickness + 1)
        return start, end
    # aeon walks ``max(n, m) + 1`` steps along the interpolated diagonal; at each step the
    # shorter series' index s and the longer one's index l are floor(step / steps * length),
    # and the cells within ``thickness`` of s (along the shorter series) are in the band.
    steps = max(n_rows, n_cols) + 1
    if n_rows < n_cols:  # rows are the shorter series: row r is covered while |s - r| <= thickness
        first_col = np.full(n_rows, -1, dtype=np.int64)  # column l at the first step with s == r
        last_col = np.zeros(n_rows, dtype=np.int64)  # ... at the last one
        for step in range(steps):
            s = math.floor((step / steps) * n_rows)
            col = math.floor((step / steps) * n_cols)
            if first_col[s] < 0:
                first_col[s] = col
            last_col[s] = col
        for r in range(n_rows):
            start[r] = first_col[max(0, r - thickness)]
            end[r] = last_col[min(n_rows - 1, r + thickness)] + 1
    else:  # rows are the longer series: row l covers columns [s - thickness, s + thickness]
        first_s = np.full(n_rows, -1, dtype=np.int64)
        last_s = np.zeros(n_rows, dtype=np.int64)
        for step in range(steps):
            s = math.floor((step / steps) * n_cols)
            row = math.floor((step / steps) * n_rows)
            if first_s[row] < 0:
                first_s[row] = s
            last_s[row] = s
        for r in range(n_rows):
            start[r] = max(0, first_s[r] - thickness)
            end[r] = min(n_cols, last_s[r] + thickness + 1)
    return start, end


def sakoe_chiba_bounds(n_rows: int, n_cols: int, window: float | None) -> tuple[np.ndarray, np.ndarray]:
    """aeon's Sakoe-Chiba band of an ``n_rows x n_cols`` cost matrix, as column bounds per row.

    Row ``i`` of ``aeon.distances.create_bounding_matrix(n_rows, n_cols, window)`` is True
    exactly on columns ``start[i] <= j < end[i]``: half-width ``int(window * min(n_rows,
    n_cols))`` around the diagonal, interpolated when the lengths differ.

    Returns
    -------
    start, end : np.ndarray, int64, shape (n_rows,)
    """
    if n_rows < 1 or n_cols < 1:
        raise ValueError(f"lengths must be positive, got {n_rows} and {n_cols}")
    return _band(int(n_rows), int(n_cols), _check_window(window))


# -- the dynamic programme ----------------------------------------------------------------------
@njit(cache=True, fastmath=True)
def _pruned_dtw_univariate(x, y, n, m, start, end, rest, upper, prev, curr):
    """One channel: ``x`` (n,) rows, ``y`` (m,) columns; see :func:`_pruned_dtw`.

    The cell is ``d * d + min(...)`` in one expression, as in aeon's univariate path (with
    ``fastmath`` LLVM fuses it into one FMA, so the rounding is aeon's); written apart from the
    multichannel loop so that the compiler cannot merge the two additions and lose the FMA.
    """
    for j in range(m + 1):
        prev[j] = np.inf
        curr[j] = np.inf
    prev[0] = 0.0  # the origin, "column -1" of "row -1"
    live_lo = -1  # live columns of the previous row: [live_lo, live_hi]; -1: the origin
    live_hi = -1
    for i in range(n):
        band_end = end[i]
        j = max(start[i], live_lo)
        curr[j] = np.inf  # column j - 1: out of the band or dead
        lo = -1
        hi = -1
        bound = upper - rest[i]
        # columns j <= live_hi + 1 may have a live predecessor in the previous row
        reach = min(band_end, live_hi + 2)
        while j < reach:
            difference = x[i] - y[j]
            value = difference * difference + min(prev[j], prev[j + 1], curr[j])
            curr[j + 1] = value
            if value <= bound:
                if lo < 0:
                    lo = j
                hi = j
            j += 1
        # beyond: only the left neighbour can be live; stop at the first dead cell
        while j < band_end:
            difference = x[i] - y[j]
            value = difference * difference + curr[j]
            curr[j + 1] = value
            if value <= bound:
                if lo < 0:
                    lo = j
                hi = j
                j += 1
            else:
                break
        if lo < 0:
            return np.inf
        # the next row reads columns lo - 1 and hi + 1 of this one: dead (or stale), so inf
        curr[lo] = np.inf
        if hi + 2 <= m:
            curr[hi + 2] = np.inf
        live_lo = lo
        live_hi = hi
        prev, curr = curr, prev
    if live_hi == m - 1:
        return prev[m]
    return np.inf


@njit(cache=True, fastmath=True)
def _pruned_dtw_channels(x, y, n, m, start, end, rest, upper, prev, curr):
    """Several channels: ``x`` (C, n) rows, ``y`` (C, m) columns; see :func:`_pruned_dtw`.

    The cell cost is summed over channels first, then added (aeon's multivariate path).
    """
    for j in range(m + 1):
        prev[j] = np.inf
        curr[j] = np.inf
    prev[0] = 0.0  # the origin, "column -1" of "row -1"
    live_lo = -1  # live columns of the previous row: [live_lo, live_hi]; -1: the origin
    live_hi = -1
    for i in range(n):
        band_end = end[i]
        j = max(start[i], live_lo)
        curr[j] = np.inf  # column j - 1: out of the band or dead
        lo = -1
        hi = -1
        bound = upper - rest[i]
        # columns j <= live_hi + 1 may have a live predecessor in the previous row
        reach = min(band_end, live_hi + 2)
        while j < reach:
            cost = 0.0
            for c in range(x.shape[0]):
                difference = x[c, i] - y[c, j]
                cost += difference * difference
            value = cost + min(prev[j], prev[j + 1], curr[j])
            curr[j + 1] = value
            if value <= bound:
                if lo < 0:
                    lo = j
                hi = j
            j += 1
        # beyond: only the left neighbour can be live; stop at the first dead cell
        while j < band_end:
            cost = 0.0
            for c in range(x.shape[0]):
                difference = x[c, i] - y[c, j]
                cost += difference * difference
            value = cost + curr[j]
            curr[j + 1] = value
            if value <= bound:
                if lo < 0:
                    lo = j
                hi = j
                j += 1
            else:
                break
        if lo < 0:
            return np.inf
        # the next row reads columns lo - 1 and hi + 1 of this one: dead (or stale), so inf
        curr[lo] = np.inf
        if hi + 2 <= m:
            curr[hi + 2] = np.inf
        live_lo = lo
        live_hi = hi
        prev, curr = curr, prev
    if live_hi == m - 1:
        return prev[m]
    return np.inf


@njit(cache=True, fastmath=True)
def _pruned_dtw(x, y, n, m, start, end, rest, upper, prev, curr):
    """DTW of ``x[:, :n]`` (rows) and ``y[:, :m]`` (columns) in the band, pruned at ``upper``.

    Row ``i`` covers columns ``[start[i], end[i])``. A cell is live when its value plus
    ``rest[i]`` (a lower bound of the cost of the rows after ``i``; zeros for none) is at most
    ``upper``. Returns the DTW distance when the last cell is live (then it is the exact value),
    else ``inf``. ``prev`` and ``curr``: buffers of at least m + 1. ``upper = inf`` runs the full
    DP (every cell of the band).
    """
    if x.shape[0] == 1:
        return _pruned_dtw_univariate(x[0], y[0], n, m, start, end, rest, upper, prev, curr)
    return _pruned_dtw_channels(x, y, n, m, start, end, rest, upper, prev, curr)


@njit(cache=True)
def _oriented(x, nx, y, ny):
    """aeon's orientation: rows are the longer series, the first one when the lengths are equal."""
    if nx < ny:
        return y, ny, x, nx
    return x, nx, y, ny


@njit(cache=True)
def _pair_distance(x, nx, y, ny, window, prev, curr, zeros):
    rows, n, cols, m = _oriented(x, nx, y, ny)
    start, end = _band(n, m, window)
    return _pruned_dtw(rows, cols, n, m, start, end, zeros, np.inf, prev, curr)


@njit(cache=True, parallel=True)
def _paired_distances(X, lengths_x, Y, lengths_y, window):
    n_pairs = X.shape[0]
    out = np.empty(n_pairs)
    width = max(X.shape[2], Y.shape[2])
    for k in prange(n_pairs):
        prev = np.empty(width + 1)
        curr = np.empty(width + 1)
        zeros = np.zeros(width)
        out[k] = _pair_distance(X[k], lengths_x[k], Y[k], lengths_y[k], window, prev, curr, zeros)
    return out


@njit(cache=True, parallel=True)
def _distance_matrix(X, lengths_x, Y, lengths_y, window):
    out = np.empty((X.shape[0], Y.shape[0]))
    width = max(X.shape[2], Y.shape[2])
    for a in prange(X.shape[0]):
        prev = np.empty(width + 1)
        curr = np.empty(width + 1)
        zeros = np.zeros(width)
        for b in range(Y.shape[0]):
            out[a, b] = _pair_distance(X[a], lengths_x[a], Y[b], lengths_y[b], window, prev, curr, zeros)
    return out


# -- lower bounds -------------------------------------------------------------------------------
@njit(cache=True, fastmath=True)
def _lb_kim(x, nx, y, ny):
    """LB_Kim on the first and last points: every warping path matches both pairs."""
    first = 0.0
    last = 0.0
    for c in range(x.shape[0]):
        d = x[c, 0] - y[c, 0]
        first += d * d
        d = x[c, nx - 1] - y[c, ny - 1]
        last += d * d
    if nx == 1 and ny == 1:
        return first
    return first + last


@njit(cache=True)
def _envelope(x, n, start, end, upper, lower):
    """``upper[c, i]`` / ``lower[c, i]``: max / min of ``x[c, start[i]:end[i]]``."""
    full = start[0] == 0 and end[0] == n
    for c in range(x.shape[0]):
        if full:  # unconstrained: one global max / min
            hi = x[c, 0]
            lo = x[c, 0]
            for j in range(1, n):
                hi = max(hi, x[c, j])
                lo = min(lo, x[c, j])
            for i in range(n):
                upper[c, i] = hi
                lower[c, i] = lo
            continue
        for i in range(n):
            hi = x[c, start[i]]
            lo = hi
            for j in range(start[i] + 1, end[i]):
                hi = max(hi, x[c, j])
                lo = min(lo, x[c, j])
            upper[c, i] = hi
            lower[c, i] = lo


@njit(cache=True, fastmath=True)
def _lb_keogh_terms(x, n, upper, lower, terms):
    """LB_Keogh of ``x`` against an envelope: per-point terms in ``terms``, their sum returned."""
    total = 0.0
    for i in range(n):
        term = 0.0
        for c in range(x.shape[0]):
            v = x[c, i]
            if v > upper[c, i]:
                d = v - upper[c, i]
                term += d * d
            elif v < lower[c, i]:
                d = v - lower[c, i]
                term += d * d
        terms[i] = term
        total += term
    return total


@njit(cache=True, fastmath=True)
def _lb_keogh(x, n, upper, lower):
    total = 0.0
    for i in range(n):
        for c in range(x.shape[0]):
            v = x[c, i]
            if v > upper[c, i]:
                d = v - upper[c, i]
                total += d * d
            elif v < lower[c, i]:
                d = v - lower[c, i]
                total += d * d
    return total


@njit(cache=True, fastmath=True)
def _squared_euclidean(x, y, n):
    total = 0.0
    for i in range(n):
        for c in range(x.shape[0]):
            d = x[c, i] - y[c, i]
            total += d * d
    return total


# -- 1NN search ---------------------------------------------------------------------------------
@njit(cache=True)
def _with_slack(value):
    return value + value * BOUND_SLACK  # inf stays inf


@njit(cache=True, parallel=True)
def _nearest_equal_length(train, train_upper, train_lower, queries, window):
    """1NN of every query among equal-length training series (length T), with the full cascade."""
    n_train, n_channels, n = train.shape
    n_queries = queries.shape[0]
    best_index = np.empty(n_queries, dtype=np.int64)
    best_distance = np.empty(n_queries)
    n_ties = np.empty(n_queries, dtype=np.int64)
    n_dtw = np.empty(n_queries, dtype=np.int64)
    start, end = _band(n, n, window)
    thickness = n if window == 1.0 else int(window * n)
    for q in prange(n_queries):
        query = queries[q]
        q_upper = np.empty((n_channels, n))
        q_lower = np.empty((n_channels, n))
        _envelope(query, n, start, end, q_upper, q_lower)
        bounds = np.empty(n_train)
        first = 0
        first_euclidean = np.inf
        for k in range(n_train):
            bounds[k] = max(
                _lb_kim(query, n, train[k], n), _lb_keogh(query, n, train_upper[k], train_lower[k])
            )
            euclidean = _squared_euclidean(query, train[k], n)
            if euclidean < first_euclidean:
                first_euclidean = euclidean
                first = k
        order = np.argsort(bounds)
        prev = np.empty(n + 1)
        curr = np.empty(n + 1)
        query_terms = np.empty(n)
        train_terms = np.empty(n)
        rest = np.empty(n)
        upper = _with_slack(first_euclidean)  # the diagonal path: DTW <= squared Euclidean
        best = np.inf
        index = -1
        ties = 0
        computed = 0
        for r in range(n_train + 1):
            k = first if r == 0 else order[r - 1]
            if r > 0 and k == first:
                continue
            if bounds[k] > upper:
                if r == 0:
                    continue
                break
            if _lb_keogh_terms(train[k], n, q_upper, q_lower, train_terms) > upper:
                continue
            _lb_keogh_terms(query, n, train_upper[k], train_lower[k], query_terms)
            # rest[i]: cost still to come after row i: rows i+1.. (query terms) or columns
            # i+thickness+1.. (candidate terms), whichever bound is larger
            after_rows = 0.0
            for i in range(n - 1, -1, -1):
                rest[i] = after_rows
                after_rows += query_terms[i]
            after_cols = 0.0
            for i in range(n - 1, -1, -1):
                col = i + thickness + 1
                if col < n:
                    after_cols += train_terms[col]
                if after_cols > rest[i]:
                    rest[i] = after_cols
            computed += 1
            distance = _pruned_dtw(query, train[k], n, n, start, end, rest, upper, prev, curr)
            if distance < best:
                best = distance
                index = k
                ties = 1
                upper = min(upper, _with_slack(best))
            elif distance == best:
                ties += 1
                if k < index:
                    index = k
        best_index[q] = index
        best_distance[q] = best
        n_ties[q] = ties
        n_dtw[q] = computed
    return best_index, best_distance, n_ties, n_dtw


@njit(cache=True, parallel=True)
def _nearest_unequal_length(train, train_lengths, queries, query_lengths, window):
    """1NN of every query among training series of any lengths: LB_Kim order, pruned DP."""
    n_train = train.shape[0]
    n_queries = queries.shape[0]
    width = max(train.shape[2], queries.shape[2])
    best_index = np.empty(n_queries, dtype=np.int64)
    best_distance = np.empty(n_queries)
    n_ties = np.empty(n_queries, dtype=np.int64)
    n_dtw = np.empty(n_queries, dtype=np.int64)
    for q in prange(n_queries):
        query = queries[q]
        nq = query_lengths[q]
        bounds = np.empty(n_train)
        for k in range(n_train):
            bounds[k] = _lb_kim(query, nq, train[k], train_lengths[k])
        order = np.argsort(bounds)
        prev = np.empty(width + 1)
        curr = np.empty(width + 1)
        zeros = np.zeros(width)
        best = np.inf
        upper = np.inf
        index = -1
        ties = 0
        computed = 0
        for r in range(n_train):
            k = order[r]
            if bounds[k] > upper:
                break
            rows, n, cols, m = _oriented(query, nq, train[k], train_lengths[k])
            start, end = _band(n, m, window)
            computed += 1
            distance = _pruned_dtw(rows, cols, n, m, start, end, zeros, upper, prev, curr)
            if distance < best:
                best = distance
                index = k
                ties = 1
                upper = _with_slack(best)
            elif distance == best:
                ties += 1
                if k < index:
                    index = k
        best_index[q] = index
        best_distance[q] = best
        n_ties[q] = ties
        n_dtw[q] = computed
    return best_index, best_distance, n_ties, n_dtw


# -- public API ---------------------------------------------------------------------------------
@contextlib.contextmanager
def numba_threads(n_jobs: int) -> Iterator[int]:
    """Run numba's parallel loops on ``n_jobs`` threads (-1: all), restoring numba's and torch's counts after."""
    available = numba.config.NUMBA_NUM_THREADS
    n_jobs = int(n_jobs)
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive number of threads or -1 (all), got {n_jobs}")
    threads = available if n_jobs == -1 else min(n_jobs, available)
    torch_before = torch.get_num_threads()  # first: numba.get_num_threads() may start its OpenMP layer, which resets it
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(before)
        # numba's OpenMP layer sets the process-wide OpenMP count, which is torch's too: put it back
        torch.set_num_threads(torch_before)


def as_padded_collection(
    X: np.ndarray | Sequence[np.ndarray], lengths: np.ndarray | None = None, name: str = "X"
) -> tuple[np.ndarray, np.ndarray]:
    """Series as a float64 ``(n_cases, n_channels, width)`` array (NaN after each end) and lengths.

    Parameters
    ----------
    X : array (n_cases, T) (univariate), (n_cases, C, T), or a sequence of (T_i,) or (C, T_i)
        NaN after a case's end is padding; NaN inside it is refused (fill gaps first).
    lengths : array (n_cases,), optional
        True lengths; default: one past the last finite value of each case (arrays), or each
        array's length (sequences).

    Returns
    -------
    X : np.ndarray, float64, shape (n_cases, n_channels, width)
    lengths : np.ndarray, int64, shape (n_cases,)
    """
    if isinstance(X, np.ndarray):
        values = np.asarray(X, dtype=np.float64)
        if values.ndim == 2:
            values = values[:, None, :]
        if values.ndim != 3:
            raise ValueError(f"{name} must be (n_cases, n_timepoints) or (n_cases, n_channels, n_timepoints), got shape {values.shape}")
        if lengths is None:
            observed = np.isfinite(values).any(axis=1)
            last = observed.shape[1] - np.argmax(observed[:, ::-1], axis=1)
            lengths = np.where(observed.any(axis=1), last, 0)
        values = np.ascontiguousarray(values)
    else:
        cases = [np.asarray(c, dtype=np.float64) for c in X]
        cases = [c[None, :] if c.ndim == 1 else c for c in cases]
        if not cases or any(c.ndim != 2 for c in cases) or len({c.shape[0] for c in cases}) != 1:
            raise ValueError(f"{name}: a non-empty sequence of (T_i,) or (C, T_i) arrays with one C is needed")
        if lengths is None:
            lengths = [c.shape[1] for c in cases]
        values = np.full((len(cases), cases[0].shape[0], max(c.shape[1] for c in cases)), np.nan)
        for i, c in enumerate(cases):
            values[i, :, : c.shape[1]] = c
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.shape != (values.shape[0],):
        raise ValueError(f"{name}: lengths must have shape ({values.shape[0]},), got {lengths.shape}")
    if values.shape[0] == 0:
        raise ValueError(f"{name}: no series")
    if lengths.min() < 1 or lengths.max() > values.shape[2]:
        raise ValueError(f"{name}: every series needs a length in [1, {values.shape[2]}]")
    inside = np.arange(values.shape[2]) < lengths[:, None]  # (n_cases, width)
    if not np.isfinite(values).all(axis=1)[inside].all():
        raise ValueError(f"{name}: NaN or inf inside a series; fill gaps first")
    return values, lengths


def dtw_distance(x: np.ndarray, y: np.ndarray, window: float | None = None) -> float:
    """DTW between two series, equal to ``aeon.distances.dtw_distance(x, y, window)``.

    Parameters
    ----------
    x, y : np.ndarray, shape (n,) / (m,) or (C, n) / (C, m)
    window : float in [0, 1] or None
    """
    (X, lx), (Y, ly) = as_padded_collection([x], name="x"), as_padded_collection([y], name="y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"x and y need the same number of channels, got {X.shape[1]} and {Y.shape[1]}")
    return float(_paired_distances(X, lx, Y, ly, _check_window(window))[0])


def paired_dtw_distances(
    X: np.ndarray | Sequence[np.ndarray],
    Y: np.ndarray | Sequence[np.ndarray],
    window: float | None = None,
    n_jobs: int = 1,
) -> np.ndarray:
    """DTW of every matched pair ``(X[k], Y[k])`` (plain DP, parallel over pairs).

    Parameters
    ----------
    X, Y : (n_pairs, T) or (n_pairs, C, T) arrays (NaN-padded), or sequences of n_pairs series
    window : float in [0, 1] or None
    n_jobs : int
        numba threads (-1: all).

    Returns
    -------
    np.ndarray, float64, shape (n_pairs,)
        ``aeon.distances.dtw_distance(X[k], Y[k], window)`` for every k, to the bit.
    """
    X, lx = as_padded_collection(X, name="X")
    Y, ly = as_padded_collection(Y, name="Y")
    if X.shape[0] != Y.shape[0] or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y need the same numbers of pairs and channels, got {X.shape[:2]} and {Y.shape[:2]}")
    window = _check_window(window)
    with numba_threads(n_jobs):
        return _paired_distances(X, lx, Y, ly, window)


def dtw_distance_matrix(
    X: np.ndarray | Sequence[np.ndarray],
    Y: np.ndarray | Sequence[np.ndarray],
    window: float | None = None,
    n_jobs: int = 1,
) -> np.ndarray:
    """All DTW distances between ``X`` (rows) and ``Y`` (columns), plain DP.

    Returns
    -------
    np.ndarray, float64, shape (len(X), len(Y))
        Equal to ``aeon.distances.dtw_pairwise_distance(X, Y, window)``.
    """
    X, lx = as_padded_collection(X, name="X")
    Y, ly = as_padded_collection(Y, name="Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y need the same number of channels, got {X.shape[1]} and {Y.shape[1]}")
    window = _check_window(window)
    with numba_threads(n_jobs):
        return _distance_matrix(X, lx, Y, ly, window)


def envelopes(X: np.ndarray, window: float | None) -> tuple[np.ndarray, np.ndarray]:
    """LB_Keogh envelopes of equal-length series: max / min over each point's band.

    Parameters
    ----------
    X : np.ndarray, shape (n_cases, C, T) (or (n_cases, T))

    Returns
    -------
    upper, lower : np.ndarray, shape (n_cases, C, T)
    """
    X, lengths = as_padded_collection(X)
    n = X.shape[2]
    if (lengths != n).any():
        raise ValueError("envelopes need equal-length series")
    start, end = _band(n, n, _check_window(window))
    upper = np.empty_like(X)
    lower = np.empty_like(X)
    for k in range(X.shape[0]):
        _envelope(X[k], n, start, end, upper[k], lower[k])
    return upper, lower


def lower_bounds(x: np.ndarray, y: np.ndarray, window: float | None) -> dict[str, float]:
    """The cascade's lower bounds of ``DTW(x, y)`` for two equal-length series (for tests).

    Returns
    -------
    dict
        ``lb_kim`` (first and last points), ``lb_keogh_xy`` (x against y's envelope),
        ``lb_keogh_yx`` (y against x's envelope).
    """
    (X, _), (Y, _) = as_padded_collection([x]), as_padded_collection([y])
    if X.shape != Y.shape:
        raise ValueError(f"lower_bounds needs series of one shape, got {X.shape[1:]} and {Y.shape[1:]}")
    n = X.shape[2]
    upper, lower = envelopes(np.concatenate([X, Y]), window)
    return {
        "lb_kim": float(_lb_kim(X[0], n, Y[0], n)),
        "lb_keogh_xy": float(_lb_keogh(X[0], n, upper[1], lower[1])),
        "lb_keogh_yx": float(_lb_keogh(Y[0], n, upper[0], lower[0])),
    }


class NearestNeighbours(NamedTuple):
    """Result of :func:`nearest_neighbour_dtw`, one entry per query.

    ``index`` (n_queries,) int64: the training series chosen (aeon's among ties, or the lowest
    with ``tie_break="first"``); ``distance`` (n_queries,): its DTW distance; ``n_ties``: how
    many training series share that distance; ``n_dtw``: how many DPs the search started
    (the rest were pruned by a lower bound).
    """

    index: np.ndarray
    distance: np.ndarray
    n_ties: np.ndarray
    n_dtw: np.ndarray


def nearest_neighbour_dtw(
    X_train: np.ndarray | Sequence[np.ndarray],
    X_query: np.ndarray | Sequence[np.ndarray],
    window: float | None = None,
    *,
    lengths_train: np.ndarray | None = None,
    lengths_query: np.ndarray | None = None,
    n_jobs: int = 1,
    tie_break: str = "aeon",
) -> NearestNeighbours:
    """Exact nearest training series of every query under DTW (see the module docstring).

    Parameters
    ----------
    X_train : (n_train, T) or (n_train, C, T) array, NaN-padded, or a sequence of series
    X_query : (n_queries, ...) likewise, the same C
    window : float in [0, 1] or None
        Sakoe-Chiba band as a fraction of the shorter length (aeon's ``window``).
    lengths_train, lengths_query : array of int, optional
        True lengths (default: from the NaN padding).
    n_jobs : int
        numba threads, parallel over queries (-1: all cores).
    tie_break : {"aeon", "first"}
        Among training series at exactly the same minimal distance: aeon 1.6's choice
        (``np.argpartition`` over the query's full row of distances, recomputed for the queries
        with a tie) or the lowest index.

    Returns
    -------
    NearestNeighbours
    """
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    train, lt = as_padded_collection(X_train, lengths_train, name="X_train")
    queries, lq = as_padded_collection(X_query, lengths_query, name="X_query")
    if train.shape[1] != queries.shape[1]:
        raise ValueError(f"train and query series need the same number of channels, got {train.shape[1]} and {queries.shape[1]}")
    window = _check_window(window)
    n = train.shape[2]
    equal = bool((lt == n).all() and (lq == n).all() and queries.shape[2] == n)
    with numba_threads(n_jobs):
        if equal:
            start, end = _band(n, n, window)
            upper = np.empty_like(train)
            lower = np.empty_like(train)
            for k in range(train.shape[0]):
                _envelope(train[k], n, start, end, upper[k], lower[k])
            index, distance, n_ties, n_dtw = _nearest_equal_length(train, upper, lower, queries, window)
        else:
            index, distance, n_ties, n_dtw = _nearest_unequal_length(train, lt, queries, lq, window)
        if tie_break == "aeon" and (n_ties > 1).any():
            tied = np.flatnonzero(n_ties > 1)
            rows = _distance_matrix(queries[tied], lq[tied], train, lt, window)
            for row, q in zip(rows, tied):
                # aeon 1.6, KNeighborsTimeSeriesClassifier._kneighbors with k = 1, one query
                index[q] = np.argpartition(row[None, :], kth=0, axis=1)[0, 0]
    return NearestNeighbours(index, distance, n_ties, n_dtw)


def one_nn_dtw_predict(
    X_train: np.ndarray | Sequence[np.ndarray],
    y_train: np.ndarray,
    X_query: np.ndarray | Sequence[np.ndarray],
    window: float | None = None,
    **kwargs,
) -> np.ndarray:
    """Labels of the DTW-nearest training series: aeon's ``KNeighborsTimeSeriesClassifier(
    distance="dtw", distance_params={"window": window}, n_neighbors=1)`` predictions.

    ``kwargs``: :func:`nearest_neighbour_dtw`'s keywords. Returns ``y_train[index]``, shape
    (n_queries,).
    """
    y_train = np.asarray(y_train)
    n_train = X_train.shape[0] if isinstance(X_train, np.ndarray) else len(X_train)
    if y_train.shape != (n_train,):
        raise ValueError(f"y_train must have one label per training series ({n_train},), got shape {y_train.shape}")
    return y_train[nearest_neighbour_dtw(X_train, X_query, window, **kwargs).index]


__all__ = [
    "BOUND_SLACK",
    "NearestNeighbours",
    "TIE_BREAKS",
    "as_padded_collection",
    "dtw_distance",
    "dtw_distance_matrix",
    "envelopes",
    "lower_bounds",
    "nearest_neighbour_dtw",
    "numba_threads",
    "one_nn_dtw_predict",
    "paired_dtw_distances",
    "sakoe_chiba_bounds",
]
