"""The T-Rep estimator: training on the project's Trainer, the heads trained, SWA, encode modes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from tsmtl.training.device import seed_everything
from tsmtl.training.trep import (
    CropBatches,
    TRep,
    TRepConfig,
    TRepModel,
    fit_representation,
    gather_windows,
    make_step,
)

TINY = {"repr_dims": 6, "hidden_dims": 4, "depth": 2, "time_embedding_dims": 3, "batch_size": 4, "n_pairs": 16, "head_hidden": 5}


def _data(n=8, t=40, c=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, t, c)).astype(np.float32)


def _fitted(iterations=3, **overrides):
    return TRep(TRepConfig(**(TINY | {"iterations": iterations} | overrides)), device="cpu").fit(_data())


def test_one_step_trains_the_pretext_heads_and_the_encoder():
    """The authors' optimiser covers the encoder only; here the heads' weights must move."""
    config = TRepConfig(**TINY, iterations=1)
    seed_everything(0)
    initial = TRepModel(2, config)  # the Trainer seeds with the same seed before building
    fitted = TRep(config, device="cpu", seed=0).fit(_data()).model_
    for name in ("divergence_head", "forecast_head", "encoder"):
        before = dict(getattr(initial, name).named_parameters())
        after = dict(getattr(fitted, name).named_parameters())
        assert before.keys() == after.keys()
        moved = [key for key in before if not torch.equal(before[key], after[key])]
        assert moved, f"no weight of {name} changed after one step"
    # one step: the average of one iterate is that iterate
    for (key, averaged), current in zip(fitted.averaged.module.named_parameters(), fitted.encoder.parameters(), strict=True):
        torch.testing.assert_close(averaged, current, msg=key)
    assert int(fitted.averaged.n_averaged) == 1


def test_heads_receive_gradients_in_a_training_step():
    config = TRepConfig(**TINY)
    torch.manual_seed(0)
    model = TRepModel(2, config).train()
    loss, logs = make_step(config)(model, torch.from_numpy(_data()))
    loss.backward()
    for head in (model.divergence_head, model.forecast_head):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())
    assert set(logs) == {"loss/instance", "loss/temporal", "loss/divergence", "loss/forecast"}
    assert loss.item() == pytest.approx(sum(v.item() for v in logs.values()), rel=1e-5)


def test_ts2vec_has_no_time_embedding_and_no_heads():
    model = TRepModel(2, TRepConfig.ts2vec(repr_dims=6, hidden_dims=4, depth=2))
    assert model.encoder.time_embedding is None and model.divergence_head is None and model.forecast_head is None
    with pytest.raises(ValueError, match="time_embedding"):
        TRepConfig(time_embedding=None)
    with pytest.raises(ValueError, match="unknown T-Rep settings"):
        TRepConfig.from_params({"repr_dim": 3})
    with pytest.raises(ValueError, match="unknown representation method"):
        fit_representation(_data(), "tloss")


def test_iterations_and_the_authors_default_rule():
    batches = CropBatches(_data(n=10), batch_size=4, iterations=7)
    assert batches.per_epoch == 2 and batches.epochs == 4
    assert [len(batches(e)) for e in range(4)] == [2, 2, 2, 1]
    assert [len(b) for b in batches(0)] == [4, 4]
    model = _fitted(iterations=5)
    assert model.n_iterations_ == 5 and int(model.model_.averaged.n_averaged) == 5
    assert "train_loss/forecast" in model.history_[0]
    small = TRep(TRepConfig(**TINY, iterations=None))
    data = _data()
    assert data.size <= 100_000  # -> 200 iterations by the authors' rule; not run here
    assert small.config.iterations is None


def test_gather_windows_marks_steps_off_the_series():
    x = torch.arange(10.0).reshape(1, 10, 1).expand(2, 10, 1)
    windows, time, valid = gather_windows(x, torch.tensor([-2, 7]), 5)
    assert valid.tolist() == [[False, False, True, True, True], [True, True, True, False, False]]
    assert windows[0, 2:, 0].tolist() == [0.0, 1.0, 2.0] and windows[1, :3, 0].tolist() == [7.0, 8.0, 9.0]
    assert time[1].tolist() == [7.0, 8.0, 9.0, 10.0, 11.0]


@pytest.fixture(scope="module")
def fitted():
    return _fitted()


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        ({}, (3, 40, 6)),
        ({"window": "full_series"}, (3, 6)),
        ({"window": 5}, (3, 40, 6)),
        ({"window": 4}, (3, 40, 6)),
        ({"window": "multiscale"}, (3, 40, 6 * 6)),  # kernels 2**(p+1) + 1 = 3 ... 65 while 2**p + 1 < 40
        ({"sliding_length": 1, "sliding_padding": 7, "causal": True}, (3, 40, 6)),
        ({"sliding_length": 8, "sliding_padding": 3}, (3, 40, 6)),
        ({"sliding_length": 8, "sliding_padding": 3, "window": "full_series"}, (3, 6)),
        ({"mask": "mask_last", "sliding_length": 1, "sliding_padding": 5, "causal": True}, (3, 40, 6)),
    ],
)
def test_encode_shapes_for_every_window_mode(fitted, kwargs, shape):
    z = fitted.encode(_data(n=3, seed=1), **kwargs)
    assert z.shape == shape and np.isfinite(z).all()


def test_encode_window_modes_agree_with_their_definitions(fitted):
    x = _data(n=3, seed=1)
    steps = fitted.encode(x)
    np.testing.assert_allclose(fitted.encode(x, window="full_series"), steps.max(axis=1), rtol=1e-6)
    pooled = fitted.encode(x, window=5)
    np.testing.assert_allclose(pooled[:, 10], steps[:, 8:13].max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(fitted.encode(x[:1], batch_size=1), steps[:1], rtol=1e-5, atol=1e-6)


def test_causal_sliding_equals_encoding_each_window_alone(fitted):
    x = _data(n=2, seed=2)
    z = fitted.encode(x, causal=True, sliding_length=1, sliding_padding=6, batch_size=7)
    for t in (0, 3, 25, 39):
        lo = max(t - 6, 0)
        alone = fitted.encode(x[:, lo : t + 1], time_indices=np.arange(lo, t + 1))
        np.testing.assert_allclose(z[:, t], alone[:, -1], rtol=1e-5, atol=1e-6)
    # the last step masked: only that step's representation may change
    masked = fitted.encode(x, mask="mask_last", causal=True, sliding_length=1, sliding_padding=6)
    assert not np.allclose(masked, z)


def test_time_indices_matter_for_trep_not_for_ts2vec(fitted):
    x = _data(n=2, seed=3)
    shifted = fitted.encode(x, time_indices=np.arange(100, 140))
    assert not np.allclose(shifted, fitted.encode(x))
    ts2vec = TRep(TRepConfig.ts2vec(repr_dims=6, hidden_dims=4, depth=2, batch_size=4, iterations=2), device="cpu").fit(_data())
    np.testing.assert_allclose(ts2vec.encode(x, time_indices=np.arange(100, 140)), ts2vec.encode(x), rtol=1e-6)


def test_missing_values_and_bad_input(fitted):
    x = _data(n=2, seed=4)
    x[0, 5:9] = np.nan
    assert np.isfinite(fitted.encode(x)).all()
    with pytest.raises(ValueError, match="fitted on 2 channels"):
        fitted.encode(_data(c=3))
    with pytest.raises(ValueError, match="mask must be"):
        fitted.encode(x, mask="binomial")
    with pytest.raises(ValueError, match="window must be"):
        fitted.encode(x, window="max")
    with pytest.raises(ValueError, match="entirely missing"):
        TRep(TRepConfig(**TINY, iterations=1), device="cpu").fit(np.full((3, 10, 1), np.nan))


def test_a_pickled_encoder_encodes_new_data_identically(fitted):
    x = _data(n=2, seed=5)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.encode(x), fitted.encode(x))


def test_same_seed_same_fit_other_data_other_fit():
    a, b = _fitted(), _fitted()
    x = _data(n=2, seed=6)
    np.testing.assert_array_equal(a.encode(x), b.encode(x))
    other = TRep(TRepConfig(**TINY, iterations=3), device="cpu").fit(_data(seed=9))
    assert not np.allclose(other.encode(x), a.encode(x))


def test_resume_continues_an_interrupted_fit_and_other_data_starts_fresh(tmp_path):
    x = _data(n=2, seed=7)
    uninterrupted = TRep(TRepConfig(**TINY, iterations=6), device="cpu").fit(_data())
    # 8 series in batches of 4: two steps per epoch; "interrupted" after two epochs, then resumed
    TRep(TRepConfig(**TINY, iterations=4), device="cpu", checkpoint_dir=tmp_path).fit(_data())
    resumed = TRep(TRepConfig(**TINY, iterations=6), device="cpu", checkpoint_dir=tmp_path, resume=True).fit(_data())
    assert len(resumed.history_) == 3
    np.testing.assert_allclose(resumed.encode(x), uninterrupted.encode(x), rtol=1e-5, atol=1e-6)
    # other data of the same shape: a new folder, trained from scratch
    other = TRep(TRepConfig(**TINY, iterations=6), device="cpu", checkpoint_dir=tmp_path, resume=True).fit(_data(seed=8))
    fresh = TRep(TRepConfig(**TINY, iterations=6), device="cpu").fit(_data(seed=8))
    assert len(list(tmp_path.iterdir())) == 2
    np.testing.assert_allclose(other.encode(x), fresh.encode(x), rtol=1e-5, atol=1e-6)
