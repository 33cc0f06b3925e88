"""tsmtl.evaluation.plots.message_figure: the PNG a plot node writes when nothing was run."""

from __future__ import annotations

import io

from tsmtl.evaluation.plots import message_figure


def test_message_figure_holds_the_text_and_renders_a_png_without_axes():
    fig = message_figure("no ForeClassNet was trained")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["no ForeClassNet was trained"]
    assert not ax.axison
    assert tuple(fig.get_size_inches()) == (4.0, 2.0)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
