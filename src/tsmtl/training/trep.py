"""Fitting T-Rep and TS2Vec, and encoding new data with them (aeon-style estimator API).

>>> import numpy as np
>>> from tsmtl.training.trep import TRep, TRepConfig
>>> x = np.random.default_rng(0).normal(size=(32, 60, 2))       # (N, T, C); NaN = missing
>>> model = TRep(TRepConfig(repr_dims=16, hidden_dims=8, depth=2, time_embedding_dims=8, iterations=2), device="cpu")
>>> model = model.fit(x)
>>> model.encode(x[:3], window="full_series").shape            # instance-level
(3, 16)
>>> model.encode(x[:3], causal=True, sliding_length=1, sliding_padding=20).shape  # streaming
(3, 60, 16)

Training (T-Rep Sec. 4, App. A.1; TS2Vec Sec. 3): every step draws a batch, two overlapping
random crops per series (contextual consistency, TS2Vec Sec. 3.2), encodes each crop as if alone
(the authors' two passes) and minimises :func:`~tsmtl.models.trep.hierarchical_loss` over the
overlap. The encoder *and* the two pretext heads are optimised (the authors' optimiser covers the
encoder only, so their heads stay at initialisation) by AdamW. Inference uses the stochastic weight
average of the encoder over all steps (both papers' ``AveragedModel``).

Speed (``benchmarks/trep_speed.py`` times one iteration against the authors' code): the encoder
computes only what the loss uses (:meth:`~tsmtl.models.trep.TRepEncoder.encode_crop_pair`: no
padding between the crops, the blocks whose dilation exceeds a crop's length run step by step on
the overlap only), the loss gathers rows once and applies the heads' first layers to the
representations where that is cheaper (:mod:`tsmtl.models.trep`), AdamW is torch's fused kernel and
the weight average one multi-tensor update. The losses are the same
(``tests/training/test_trep_loss_parity.py`` re-derives them).

The loop is the project's :class:`~tsmtl.training.loop.Trainer`: an epoch is one pass over the
shuffled series in batches (the last epoch cut to reach ``iterations``), so checkpoints, seeding
and ``resume`` work as for every other model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tsmtl.models.trep import (
    TREP_TASK_WEIGHTS,
    TS2VEC_TASK_WEIGHTS,
    DivergenceHead,
    ForecastHead,
    TRepEncoder,
    check_task_weights,
    hierarchical_loss,
)
from tsmtl.training.device import choose_device
from tsmtl.training.fingerprint import data_digest, run_fingerprint
from tsmtl.training.loop import Trainer

WINDOWS = (None, "full_series", "multiscale")
#: Part of every checkpoint fingerprint; bump when the model's maths or state-dict layout changes.
TREP_REVISION = 1


@dataclass(frozen=True)
class TRepConfig:
    """Hyperparameters of T-Rep (defaults: the authors' code and App. A.1) or TS2Vec (:meth:`ts2vec`).

    ``iterations=None`` is the authors' rule: 200 steps, 600 above 100,000 values.
    ``max_train_length`` cuts longer series into sections (TS2Vec: 3000) and crops a random
    window of that length per batch.
    """

    repr_dims: int = 128
    hidden_dims: int | tuple[int, ...] = (64, 128, 256, 256, 256, 256, 128, 128, 128, 128)
    depth: int = 10
    time_embedding: str | None = "t2v_sin"
    time_embedding_dims: int = 64
    task_weights: Mapping[str, float] = field(default_factory=lambda: dict(TREP_TASK_WEIGHTS))
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-2
    iterations: int | None = None
    max_train_length: int | None = 3000
    temporal_unit: int = 0
    n_pairs: int = 800
    max_delta: int = 10
    head_hidden: int = 128

    def __post_init__(self) -> None:
        if isinstance(self.hidden_dims, list):
            object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        object.__setattr__(self, "task_weights", check_task_weights(self.task_weights))
        if self.time_embedding is None and (self.task_weights["divergence"] or self.task_weights["forecast"]):
            raise ValueError("the time-embedding pretext tasks need a time_embedding (TS2Vec: TRepConfig.ts2vec())")
        for name in ("repr_dims", "depth", "batch_size", "n_pairs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> TRepConfig:
        """From YAML; unknown keys are refused (a typo must not be ignored)."""
        params = dict(params or {})
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"unknown T-Rep settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**params)

    @classmethod
    def ts2vec(cls, **overrides: Any) -> TRepConfig:
        """TS2Vec's defaults (width 64, depth 10, representation 320, batch 8, lr 1e-3): no time-embedding, alpha 0.5."""
        settings = {"repr_dims": 320, "hidden_dims": 64, "time_embedding": None, "time_embedding_dims": 0,
                    "task_weights": dict(TS2VEC_TASK_WEIGHTS), "batch_size": 8}
        settings.update(overrides)
        return cls(**settings)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hidden_dims"] = list(self.hidden_dims) if isinstance(self.hidden_dims, tuple) else self.hidden_dims
        out["task_weights"] = dict(self.task_weights)
        return out


class TRepModel(nn.Module):
    """The encoder, the two pretext heads and the averaged (SWA) encoder used for inference."""

    def __init__(self, in_channels: int, config: TRepConfig) -> None:
        super().__init__()
        hidden = config.hidden_dims if isinstance(config.hidden_dims, int) else list(config.hidden_dims)
        self.encoder = TRepEncoder(
            in_channels, config.repr_dims, hidden, config.depth, config.time_embedding, config.time_embedding_dims
        )
        k = self.encoder.time_embedding_dims
        self.divergence_head = DivergenceHead(config.repr_dims, config.head_hidden) if config.task_weights["divergence"] else None
        self.forecast_head = ForecastHead(config.repr_dims, k, config.head_hidden) if config.task_weights["forecast"] else None
        # The running mean as one multi-tensor lerp (on a CPU, AveragedModel's default is a Python
        # loop of three operations per tensor): the same average.
        self.averaged = torch.optim.swa_utils.AveragedModel(self.encoder, multi_avg_fn=torch.optim.swa_utils.get_swa_multi_avg_fn())
        self.averaged.requires_grad_(False)

    def update_average(self) -> None:
        self.averaged.update_parameters(self.encoder)


def _split_sections(data: np.ndarray, max_length: int | None) -> np.ndarray:
    """TS2Vec's ``split_with_nan``: series longer than ``2 * max_length`` cut into equal sections (NaN-padded)."""
    if max_length is None:
        return data
    sections = data.shape[1] // int(max_length)
    if sections < 2:
        return data
    parts = np.array_split(data, sections, axis=1)
    width = parts[0].shape[1]
    padded = [np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=np.nan) for p in parts]
    return np.concatenate(padded, axis=0)


def _centre_missing_edges(data: np.ndarray) -> np.ndarray:
    """Move each series' observed span to the middle when some series start or end with all-NaN steps
    (TS2Vec's ``centerize_vary_length_series``), so crops of short series are not all padding."""
    missing = np.isnan(data).all(axis=-1)
    if not (missing[:, 0].any() or missing[:, -1].any()):
        return data
    observed = ~missing
    first = observed.argmax(axis=1)
    last = data.shape[1] - observed[:, ::-1].argmax(axis=1)
    shift = (data.shape[1] - last - first) // 2
    rows, cols = np.ogrid[: data.shape[0], : data.shape[1]]
    return data[rows, (cols - shift[:, None]) % data.shape[1]]


class CropBatches:
    """Epoch ``e`` -> shuffled batches ``(B, T, C)`` float32; deterministic in ``(seed, e)``.

    ``steps_left(e)`` cuts the last epoch so that exactly ``iterations`` batches are drawn.
    """

    def __init__(self, data: np.ndarray, batch_size: int, iterations: int, seed: int = 0) -> None:
        self.data = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))
        self.batch_size = min(int(batch_size), len(data))
        self.per_epoch = max(len(data) // self.batch_size, 1)
        self.iterations = int(iterations)
        self.seed = int(seed)

    @property
    def epochs(self) -> int:
        return math.ceil(self.iterations / self.per_epoch)

    def __call__(self, epoch: int) -> list[torch.Tensor]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + int(epoch))
        order = torch.randperm(len(self.data), generator=generator)
        n = min(self.per_epoch, self.iterations - epoch * self.per_epoch)
        return [self.data[order[k * self.batch_size : (k + 1) * self.batch_size]] for k in range(n)]


@dataclass
class Crops:
    """Two overlapping crops of a batch (TS2Vec Sec. 3.2): crop ``a`` = ``[start_a, start_a + len_a)``,
    crop ``b`` likewise; their last/first ``overlap`` steps coincide."""

    start_a: torch.Tensor
    len_a: int
    start_b: torch.Tensor
    len_b: int
    overlap: int


def sample_crops(b: int, t: int, temporal_unit: int = 0) -> Crops:
    """TS2Vec's random cropping with the global torch RNG (checkpointed by the Trainer)."""

    def randint(low: int, high: int, size: tuple[int, ...] = ()) -> torch.Tensor:
        return torch.randint(int(low), int(high), size)

    overlap = int(randint(2 ** (temporal_unit + 1), t + 1))
    left = int(randint(0, t - overlap + 1))
    right = left + overlap
    extended_left = int(randint(0, left + 1))
    extended_right = int(randint(right, t + 1))
    offset = randint(-extended_left, t - extended_right + 1, (b,))
    return Crops(offset + extended_left, right - extended_left, offset + left, extended_right - left, overlap)


def gather_windows(x: torch.Tensor, starts: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``x`` (B, T, C), per-row ``starts`` (B,) (may run off either end) -> windows (B, length, C),
    their time indices (B, length) and ``valid`` (B, length) (False off the series)."""
    positions = starts.to(x.device).unsqueeze(1) + torch.arange(length, device=x.device)
    valid = (positions >= 0) & (positions < x.shape[1])
    index = positions.clamp(0, x.shape[1] - 1)
    windows = x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
    return windows, positions.to(x.dtype), valid


def _adamw(config: TRepConfig):
    """AdamW (lr, weight decay of ``config``) as one fused kernel where torch has it (CPU, CUDA): the same
    update as the per-tensor loop that is torch's default on a CPU, several times faster."""

    def build(params):
        params = list(params)
        try:
            return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
        except (RuntimeError, ValueError):  # a device without the fused kernel
            return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)

    return build


def make_step(config: TRepConfig):
    """The Trainer ``step_fn``: two crops (:func:`sample_crops`), the representations of their overlap
    (:meth:`~tsmtl.models.trep.TRepEncoder.encode_crop_pair`), :func:`hierarchical_loss`."""

    def step(model: TRepModel, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        b, t, _ = x.shape
        if config.max_train_length is not None and t > config.max_train_length:
            offset = int(torch.randint(0, t - config.max_train_length + 1, ()))
            x = x[:, offset : offset + config.max_train_length]
            t = config.max_train_length
        crops = sample_crops(b, t, config.temporal_unit)
        xa, ta, _ = gather_windows(x, crops.start_a, crops.len_a)  # the crops lie within the series
        xb, tb, _ = gather_windows(x, crops.start_b, crops.len_b)
        z1, z2, tau1 = model.encoder.encode_crop_pair(xa, ta, xb, tb, crops.overlap)
        loss, parts = hierarchical_loss(
            z1, z2, tau1, config.task_weights, model.divergence_head, model.forecast_head,
            config.temporal_unit, config.n_pairs, config.max_delta,
        )
        return loss, {f"loss/{task}": value.detach() for task, value in parts.items() if config.task_weights[task]}

    return step


def _pool(z: torch.Tensor, window: Any) -> torch.Tensor:
    """Pooling of ``encode``: ``z`` (B, T, F) -> (B, T', F')."""
    if window is None:
        return z
    if window == "full_series":
        return z.amax(dim=1, keepdim=True)
    zt = z.transpose(1, 2)
    if window == "multiscale":
        scales, p = [], 0
        while (1 << p) + 1 < z.shape[1]:
            scales.append(F.max_pool1d(zt, kernel_size=(1 << (p + 1)) + 1, stride=1, padding=1 << p))
            p += 1
        return torch.cat(scales or [zt], dim=1).transpose(1, 2)
    if isinstance(window, (int, np.integer)) and int(window) >= 1:
        w = int(window)
        out = F.max_pool1d(zt, kernel_size=w, stride=1, padding=w // 2)
        if w % 2 == 0:
            out = out[..., :-1]
        return out.transpose(1, 2)
    raise ValueError(f"window must be None, 'full_series', 'multiscale' or a positive int, got {window!r}")


class TRep:
    """T-Rep (or TS2Vec with :meth:`TRepConfig.ts2vec`) as an estimator: ``fit(X)``, ``encode(X)``.

    Parameters
    ----------
    config : TRepConfig
    device : str
        ``"auto"`` picks cuda when present.
    seed : int
        Seeds the Trainer (initial weights, crops, masks, pairs).
    checkpoint_dir : path, optional
        Checkpoints per epoch under ``<checkpoint_dir>/<fingerprint>/`` (data, settings but
        ``iterations``, seed): ``resume=True`` continues a run on the same data and settings (also
        to more iterations, replaying exactly the uninterrupted run); anything else starts fresh.

    Attributes (after ``fit``)
    --------------------------
    model_ : TRepModel
    history_ : list of dict -- one record per epoch with ``train_loss`` and ``train_loss/<task>``.
    n_iterations_ : int
    in_channels_ : int
    """

    def __init__(self, config: TRepConfig | None = None, device: str = "auto", seed: int = 0, checkpoint_dir: str | Path | None = None, resume: bool = False, progress: bool = True) -> None:
        self.config = config or TRepConfig()
        self.device = device
        self.seed = int(seed)
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.progress = progress
        self.model_: TRepModel | None = None

    # -- fitting -------------------------------------------------------------------------------
    def _check_data(self, data: np.ndarray) -> np.ndarray:
        data = np.asarray(data, dtype=np.float32)
        if data.ndim == 2:
            data = data[..., None]
        if data.ndim != 3:
            raise ValueError(f"T-Rep expects (n_series, n_steps, n_channels) or (n_series, n_steps), got shape {data.shape}")
        if self.model_ is not None and data.shape[-1] != self.in_channels_:
            raise ValueError(f"this encoder was fitted on {self.in_channels_} channels, got {data.shape[-1]}")
        return data

    def fit(self, data: np.ndarray) -> TRep:
        """Train on ``data`` ``(N, T, C)`` (or ``(N, T)``), NaN for missing values; returns ``self``."""
        data = self._check_data(data)
        config = self.config
        iterations = config.iterations
        if iterations is None:
            iterations = 200 if data.size <= 100_000 else 600
        train = _split_sections(data, config.max_train_length)
        train = _centre_missing_edges(train)
        train = train[~np.isnan(train).all(axis=(1, 2))]
        if len(train) == 0:
            raise ValueError("every series is entirely missing (NaN)")
        if train.shape[1] < 2 ** (config.temporal_unit + 1):
            raise ValueError(f"series of {train.shape[1]} steps are too short for temporal_unit={config.temporal_unit}")
        batches = CropBatches(train, config.batch_size, iterations, self.seed)
        in_channels = data.shape[-1]
        # Checkpoints go to <checkpoint_dir>/<fingerprint of data, settings, seed>: other data or
        # settings start fresh; ``iterations`` is left out, so a resumed run may go further.
        digest = data_digest(train)
        settings = {k: v for k, v in config.as_dict().items() if k != "iterations"}
        folder = None
        if self.checkpoint_dir is not None:
            folder = Path(self.checkpoint_dir) / run_fingerprint(digest, settings, self.seed, TREP_REVISION)
        trainer = Trainer(
            lambda: TRepModel(in_channels, config),
            make_step(config),
            batches,
            epochs=batches.epochs,
            optimizer=_adamw(config),
            device=self.device,
            monitor="epoch",  # self-supervised: the final (averaged) weights are the result
            mode="max",
            checkpoint_dir=folder,
            resume=self.resume,
            data_digest=digest,
            seed=self.seed,
            progress=self.progress,
            after_step=lambda model: model.update_average(),
        )
        result = trainer.fit()
        self.model_ = result.model.eval()
        self.history_ = result.history
        self.n_iterations_ = int(iterations)
        self.in_channels_ = int(in_channels)
        return self

    @property
    def encoder(self) -> TRepEncoder:
        """The averaged encoder (what ``encode`` uses); e.g. to initialise a multitask trunk."""
        if self.model_ is None:
            raise RuntimeError("fit the model first")
        return self.model_.averaged.module

    def context_padding(self, limit: int = 200) -> int:
        """``min(limit, the encoder's half receptive field)``: the causal sliding context that
        gives the same per-step representations as ``limit`` steps (a step depends on no input
        further back than the receptive field), at a fraction of the cost for small encoders."""
        return int(min(int(limit), self.encoder.half_receptive_field))

    # -- inference -----------------------------------------------------------------------------
    def _encode_windows(self, x: torch.Tensor, time: torch.Tensor, valid: torch.Tensor | None, mask: torch.Tensor | None, window: Any, device: torch.device) -> torch.Tensor:
        encoder = self.encoder
        z, _ = encoder.encode_steps(x.to(device), time.to(device), None if mask is None else mask.to(device), None if valid is None else valid.to(device))
        return _pool(z, window)

    @torch.no_grad()
    def encode(
        self,
        data: np.ndarray,
        mask: str | np.ndarray | None = None,
        window: Any = None,
        causal: bool = False,
        sliding_length: int | None = None,
        sliding_padding: int = 0,
        time_indices: np.ndarray | None = None,
        batch_size: int = 256,
    ) -> np.ndarray:
        """Representations of ``data`` ``(N, T, C)`` (NaN = missing), with the averaged encoder, no refit.

        Parameters
        ----------
        mask : None / "all_true", "mask_last", or bool array (N, T)
            Steps to hide (False) from the encoder; "mask_last" hides the last step of every
            window (the anomaly score of TS2Vec/T-Rep App. A.5).
        window : None, "full_series", "multiscale" or int
            None: per step ``(N, T, F)``; "full_series": max over time ``(N, F)``; int ``w``: max
            over a centred window of ``w`` steps ``(N, T, F)``; "multiscale": windows of
            ``2**(p+1) + 1`` concatenated ``(N, T, F * P)``.
        causal, sliding_length, sliding_padding
            Sliding inference: windows of ``sliding_length`` steps with ``sliding_padding`` steps
            of context before (and after unless ``causal``); steps before the series start are
            cut, not zero-filled. ``sliding_length=1, causal=True`` gives each step the
            representation of the ``sliding_padding + 1`` steps ending there (forecasting,
            streaming anomaly detection).
        time_indices : array (T,) or (N, T), optional
            Time index of every step for the time-embedding (default ``0..T-1``): pass the
            positions in the training series when encoding its continuation.
        """
        data = self._check_data(data)
        device = choose_device(self.device)
        n, t, _ = data.shape
        x_all = torch.from_numpy(data)
        if time_indices is None:
            time_all = torch.arange(t, dtype=torch.float32).expand(n, t)
        else:
            time_all = torch.as_tensor(np.asarray(time_indices, dtype=np.float32)).expand(n, t)
        masks: torch.Tensor | None
        if mask is None or (isinstance(mask, str) and mask == "all_true"):
            masks = None
        elif isinstance(mask, str) and mask == "mask_last":
            masks = "last"  # type: ignore[assignment]
        elif isinstance(mask, str):
            raise ValueError(f"mask must be None, 'all_true', 'mask_last' or a boolean (N, T) array, got {mask!r}")
        else:
            masks = torch.as_tensor(np.asarray(mask, dtype=bool))
            if tuple(masks.shape) != (n, t):
                raise ValueError(f"a mask array must have shape {(n, t)}, got {tuple(masks.shape)}")
        self.model_.to(device).eval()
        if sliding_length is None:
            out = []
            for lo in range(0, n, batch_size):
                x = x_all[lo : lo + batch_size]
                m = None
                if isinstance(masks, torch.Tensor):
                    m = masks[lo : lo + batch_size]
                elif masks == "last":
                    m = torch.ones(x.shape[:2], dtype=torch.bool)
                    m[:, -1] = False
                out.append(self._encode_windows(x, time_all[lo : lo + batch_size], None, m, window, device).cpu())
            z = torch.cat(out)
        else:
            z = self._encode_sliding(x_all, time_all, masks, window, causal, int(sliding_length), int(sliding_padding), batch_size, device)
        if window == "full_series":
            z = z.amax(dim=1)
        return z.numpy()

    def _encode_sliding(self, x_all, time_all, masks, window, causal, length, padding, batch_size, device) -> torch.Tensor:
        if length < 1 or padding < 0:
            raise ValueError(f"sliding_length must be >= 1 and sliding_padding >= 0, got {length}, {padding}")
        n, t, _ = x_all.shape
        starts = torch.arange(0, t, length)
        width = padding + length + (0 if causal else padding)
        # Every (series, window) pair, batched; only each window's own steps are gathered (not a
        # copy of the whole series per window); steps off the series are cut (valid=False).
        rows_all = torch.arange(n).repeat_interleave(len(starts))
        begins_all = starts.repeat(n) - padding
        offsets = torch.arange(width)
        pieces = []
        for lo in range(0, len(rows_all), batch_size):
            rows = rows_all[lo : lo + batch_size].unsqueeze(1)
            positions = begins_all[lo : lo + batch_size].unsqueeze(1) + offsets
            valid = (positions >= 0) & (positions < t)
            index = positions.clamp(0, t - 1)
            x, time = x_all[rows, index], time_all[rows, index]
            m = None
            if isinstance(masks, torch.Tensor):
                m = masks[rows, index]
            elif masks == "last":
                m = torch.ones(len(index), width, dtype=torch.bool)
                m[:, padding + length - 1] = False
            z = self._encode_windows(x, time, valid, m, window if window != "full_series" else None, device).cpu()
            pieces.append(z[:, padding : padding + length])
        z = torch.cat(pieces).reshape(n, len(starts) * length, -1)
        return z[:, :t]

    # -- persistence ---------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.model_ is not None:
            state["model_"] = None
            state["_state_dict"] = {k: v.detach().cpu() for k, v in self.model_.state_dict().items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.pop("_state_dict", None)
        self.__dict__.update(state)
        if weights is not None:
            self.model_ = TRepModel(self.in_channels_, self.config)
            self.model_.load_state_dict(weights)
            self.model_.eval()


def fit_representation(
    data: np.ndarray,
    method: str,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    device: str = "auto",
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
) -> TRep:
    """Fit ``method`` ``"trep"`` or ``"ts2vec"`` on ``data`` with YAML ``params`` (TRepConfig fields).

    ``checkpoint_dir`` / ``resume``: as :class:`TRep` (a run folder per data, settings and seed
    below it; an interrupted fit continues).
    """
    params = dict(params or {})
    if method == "trep":
        config = TRepConfig.from_params(params)
    elif method == "ts2vec":
        unknown = set(params) - {f.name for f in fields(TRepConfig)}
        if unknown:
            raise ValueError(f"unknown TS2Vec settings {sorted(unknown)}")
        config = TRepConfig.ts2vec(**params)
    else:
        raise ValueError(f"unknown representation method {method!r}; use 'trep' or 'ts2vec'")
    return TRep(config, device=device, seed=seed, checkpoint_dir=checkpoint_dir, resume=resume).fit(data)


__all__ = ["CropBatches", "Crops", "TRep", "TRepConfig", "TRepModel", "fit_representation", "gather_windows", "make_step", "sample_crops"]
