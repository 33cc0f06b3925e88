import numpy as np

from tsmtl.data.types import TimeSeriesData
from tsmtl.pipelines.common import make_missing_variants


def test_every_task_at_every_rate_with_the_requested_fraction_missing():
    X = np.arange(2 * 3 * 10, dtype=float).reshape(2, 3, 10)
    data = TimeSeriesData(X=X, y=np.array([0, 1]), lengths=np.array([10, 10]), name="toy")
    out = make_missing_variants({"toy": {"train": data, "test": data}}, {"rates": [0.2, 0.5], "unit": "timestep", "seed": 1})
    assert set(out) == {"toy@0.2", "toy@0.5"}
    for key, rate in (("toy@0.2", 0.2), ("toy@0.5", 0.5)):
        for split in ("train", "test"):
            missing_steps = np.isnan(out[key][split].X).all(axis=1).sum()
            assert missing_steps == int(20 * rate)  # 20 time steps in all, whole steps removed
            # a removed time step is removed in every channel
            assert (np.isnan(out[key][split].X).any(axis=1) == np.isnan(out[key][split].X).all(axis=1)).all()
    assert not np.isnan(data.X).any()  # the input is untouched
