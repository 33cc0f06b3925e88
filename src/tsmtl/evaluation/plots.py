"""Figures of the papers, drawn with matplotlib's Agg backend (no display needed).

* :func:`dtw_error_boxplot` -- ResNet2D paper, Fig. 1: test errors of the DTW approximation,
  one box per (warping window, model).
* :func:`importance_maps_figure` -- ResNet2D paper, Fig. 4: pixel-importance maps of distance
  matrices with the true DTW warping path in red.
* :func:`critical_difference_figure` -- the critical-difference diagram of methods compared over
  tasks (Demsar 2006), cliques by Wilcoxon signed-rank tests with Holm's correction (aeon).
* :func:`message_figure` -- a small figure holding one line of text, for a plot node whose
  pipeline ran nothing to draw (the catalog still gets its PNG).

Every function returns a :class:`matplotlib.figure.Figure` built with the object API (not
``pyplot``): no global figure is left open and no backend is switched; ``fig.savefig`` renders
a PNG with matplotlib's Agg canvas whatever the session's backend (also through kedro's
``matplotlib.MatplotlibDataset``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

#: Fig. 4's colour scale: dark blue (low importance) to orange (high).
IMPORTANCE_CMAP = LinearSegmentedColormap.from_list("dark_blue_orange", ["#081d58", "#225ea8", "#fd8d3c", "#ff7f00"])

#: Display names of the learners (the paper's labels).
MODEL_LABELS = {"resnet1d": "ResNet1D", "resnet2d": "ResNet2D"}

_BOX_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def message_figure(text: str) -> Figure:
    """A 4 x 2 inch figure with ``text`` in its middle and no axes (nothing to draw)."""
    fig = Figure(figsize=(4, 2))
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.axis("off")
    return fig


def _window_label(window: float) -> str:
    window = float(window)
    return "no window" if window >= 1.0 or np.isnan(window) else f"window {window:g}"


def dtw_error_boxplot(errors: pd.DataFrame, title: str | None = None, log_scale: bool = False) -> Figure:
    """Box plots of the DTW approximation errors per warping window and model (Fig. 1).

    Parameters
    ----------
    errors : DataFrame with columns ``window`` (float, 1.0 = unconstrained), ``model``
        (e.g. "resnet1d") and ``error`` (one row per test pair, e.g. the absolute error).
    title : str, optional
    log_scale : bool
        Logarithmic error axis (errors spanning orders of magnitude).

    Returns
    -------
    Figure
        One group of boxes per window (ascending), one box per model inside a group, a legend
        naming the models. Whiskers at 1.5 IQR, outliers as small dots.
    """
    missing = {"window", "model", "error"} - set(errors.columns)
    if missing:
        raise ValueError(f"errors needs the columns window, model, error; missing {sorted(missing)}")
    if errors.empty:
        raise ValueError("no errors to plot")
    windows = sorted(errors["window"].astype(float).unique())
    models = list(dict.fromkeys(errors["model"]))  # order of first appearance
    width = 0.8 / len(models)
    fig = Figure(figsize=(max(5.0, 1.2 + 1.4 * len(windows) * max(1.0, len(models) / 2)), 4.0), layout="constrained")
    ax = fig.add_subplot()
    for k, model in enumerate(models):
        data = [
            errors.loc[(errors["window"].astype(float) == w) & (errors["model"] == model), "error"].to_numpy(dtype=float)
            for w in windows
        ]
        positions = np.arange(len(windows)) + (k - (len(models) - 1) / 2) * width
        colour = _BOX_COLOURS[k % len(_BOX_COLOURS)]
        ax.boxplot(
            data,
            positions=positions,
            widths=width * 0.85,
            patch_artist=True,
            boxprops={"facecolor": colour, "alpha": 0.6},
            medianprops={"color": "black"},
            flierprops={"marker": ".", "markersize": 2, "alpha": 0.4},
            manage_ticks=False,
        )
        ax.plot([], [], "s", color=colour, alpha=0.6, label=MODEL_LABELS.get(model, str(model)))
    ax.set_xticks(np.arange(len(windows)), [_window_label(w) for w in windows])
    ax.set_xlabel("warping window (fraction of the series length)")
    ax.set_ylabel("test error |predicted - true DTW|")
    if log_scale:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right")
    ax.set_title(title or "DTW approximation error on the test pairs")
    return fig


def importance_maps_figure(
    maps: Sequence[np.ndarray],
    paths: Sequence[np.ndarray | Sequence[tuple[int, int]]],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
) -> Figure:
    """Pixel-importance maps with the true warping path drawn in red on each (Fig. 4).

    Parameters
    ----------
    maps : sequence of arrays, shape (n, m)
        Importance of every pixel of a pair's distance matrix (row ``i``: first series,
        column ``j``: second series).
    paths : sequence of arrays (path_length, 2) or lists of ``(i, j)``
        The ground-truth DTW warping path of each pair.
    titles : sequence of str, optional
    ncols : int, optional
        Maps per row (default: up to 4).

    Returns
    -------
    Figure
        One panel per map: the map with origin at the top left (``(0, 0)`` where both series
        start, as in a matrix), colour from dark blue (low) to orange (high), and the path as a
        red line over it.
    """
    if len(maps) == 0:
        raise ValueError("no importance maps to plot")
    if len(paths) != len(maps) or (titles is not None and len(titles) != len(maps)):
        raise ValueError(f"{len(maps)} maps, {len(paths)} paths and {len(titles or [])} titles: lengths differ")
    ncols = int(ncols or min(4, len(maps)))
    nrows = int(np.ceil(len(maps) / ncols))
    fig = Figure(figsize=(3.0 * ncols, 3.0 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(maps):
            ax.set_visible(False)
            continue
        image = np.asarray(maps[k], dtype=float)
        if image.ndim != 2:
            raise ValueError(f"map {k} must be 2-D (n, m), got shape {image.shape}")
        path = np.asarray(paths[k], dtype=float).reshape(-1, 2)
        ax.imshow(image, cmap=IMPORTANCE_CMAP, origin="upper", interpolation="nearest", aspect="auto")
        ax.plot(path[:, 1], path[:, 0], color="red", linewidth=1.5)
        ax.set_xlim(-0.5, image.shape[1] - 0.5)
        ax.set_ylim(image.shape[0] - 0.5, -0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
    return fig


__all__ = ["IMPORTANCE_CMAP", "MODEL_LABELS", "dtw_error_boxplot", "importance_maps_figure"]


def critical_difference_figure(scores: pd.DataFrame, alpha: float = 0.05, title: str | None = None) -> Figure:
    """Critical-difference diagram of the methods (columns) over the tasks (rows).

    Drawn by aeon's :func:`aeon.visualisation.plot_critical_difference`: the average rank of each
    method on a number line, methods joined by a bar when pairwise one-sided Wilcoxon
    signed-rank tests, Holm-corrected at ``alpha``, find no difference (aeon's default test,
    Benavoli et al. 2016). Higher scores are better.

    Parameters
    ----------
    scores : DataFrame, tasks x methods
        E.g. the mean test accuracy over split seeds; tasks with a missing score are dropped.
    alpha : float
    title : str, optional

    Returns
    -------
    Figure
        A :func:`message_figure` when fewer than three methods (aeon's Friedman test needs three)
        or two tasks have scores.
    """
    import matplotlib.pyplot as plt
    from aeon.visualisation import plot_critical_difference

    scores = scores.dropna()
    if scores.shape[1] < 3 or scores.shape[0] < 2:
        return message_figure(
            f"a critical-difference diagram needs >= 3 methods and >= 2 tasks, got {scores.shape[1]} and {scores.shape[0]}"
        )
    fig, ax = plot_critical_difference(
        scores.to_numpy(dtype=float), [str(c) for c in scores.columns], test="wilcoxon", correction="holm", alpha=alpha
    )
    ax.set_title(title or f"Average rank over {len(scores)} tasks (bars: no significant difference, Wilcoxon-Holm, alpha {alpha:g})",
                 fontsize=9)  # fmt: skip
    plt.close(fig)  # aeon draws with pyplot: detach the figure from pyplot's global state
    return fig
