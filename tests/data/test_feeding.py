import numpy as np
import pytest

from tsmtl.data.feeding import FeedingOptions, feed_series, feed_task_splits, fill_gaps
from tsmtl.data.types import TimeSeriesData

nan = np.nan


def _data():
    X = np.array([[[nan, 1.0, nan, 3.0, nan]], [[2.0, nan, nan, 8.0, 10.0]]])
    return TimeSeriesData(X=X, y=np.array([0, 1]), lengths=np.array([4, 5]), name="toy")


def test_interpolate_fills_interior_and_edges_but_not_padding():
    out = fill_gaps(_data(), "interpolate")
    np.testing.assert_allclose(out.X[0, 0, :4], [1.0, 1.0, 2.0, 3.0])
    assert np.isnan(out.X[0, 0, 4])  # padding after the true length stays NaN
    np.testing.assert_allclose(out.X[1, 0], [2.0, 4.0, 6.0, 8.0, 10.0])


def test_ffill_and_zero():
    np.testing.assert_allclose(fill_gaps(_data(), "ffill").X[1, 0], [2.0, 2.0, 2.0, 8.0, 10.0])
    np.testing.assert_allclose(fill_gaps(_data(), "ffill").X[0, 0, :4], [1.0, 1.0, 1.0, 3.0])
    np.testing.assert_allclose(fill_gaps(_data(), "zero").X[0, 0, :4], [0.0, 1.0, 0.0, 3.0])


def test_feed_series_znormalises_over_true_length():
    out = feed_series(_data(), FeedingOptions())
    row = out.X[1, 0]
    assert row.mean() == pytest.approx(0.0, abs=1e-9)
    assert row.std() == pytest.approx(1.0, rel=1e-6)
    assert out.meta["feeding"] == "znormalise=True, gaps=interpolate, length=native"


def test_bad_options_raise():
    with pytest.raises(ValueError, match="gaps"):
        FeedingOptions(gaps="spline")
    with pytest.raises(ValueError, match="resample_length"):
        FeedingOptions(length="resample")


def test_errors_name_the_task_of_an_unnamed_split():
    """feed_task_splits gives an unnamed split its task's name, so a refused case says where it is."""
    empty_case = TimeSeriesData(X=np.array([[[1.0, 2.0]], [[nan, nan]]]), y=np.array([0, 1]), lengths=np.array([2, 0]))
    options = FeedingOptions(length="resample", resample_length=4)
    with pytest.raises(ValueError, match=r"^GesturePebbleZ1: case 1 is empty; cannot resample it"):
        feed_task_splits({"GesturePebbleZ1": {"train": empty_case}}, options)
