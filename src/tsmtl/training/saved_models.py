"""A fitted multitask model as plain data: its best weights and what rebuilds it (issue #11, Catalog).

:func:`model_record` turns a :class:`~tsmtl.training.fit.MultiTaskFit` into a dict of tensors and
plain Python values only -- what ``torch.load(weights_only=True)`` accepts, so the file is safe to
load and needs no tsmtl class to unpickle. :func:`rebuild_model` makes the model again from it
(:func:`~tsmtl.models.sharing.build_multitask_model`, then ``load_state_dict``).

A record::

    {
        "format": 1,
        "state_dict": {parameter or buffer name: tensor (CPU)},   # the best epoch's weights
        "model": {"backbone", "backbone_params", "sharing", "sharing_params"},
        "in_channels": int,                                      # C of the (B, C, T) input
        "tasks": {task: TaskSpec fields},                        # heads, classes (label of each index)
        "best_epoch": int,
        "scores": {"val": {...}, "test": {...}},                 # evaluate_tasks' keys, floats
        ...                                                      # what the caller adds (method, group, split_seed)
    }

The model maps ``x`` ``(B, C, T)`` and ``lengths`` ``(B,)`` to ``{task: (B, K) logits}``;
:func:`evaluate_record` scores it on new data, encoding the labels with the record's classes.

Any other network of the library (a ForeClassNet, a Siamese DTW learner) is kept by
:func:`module_record` as its class and constructor arguments instead of ``model``/``tasks``::

    {"format": 1, "class": "tsmtl.models.foreclassnet.ForeClassNet", "config": {constructor kwargs},
     "state_dict": {...}, ...}

and :func:`rebuild_model` rebuilds either kind. Only classes of the ``tsmtl`` package are
imported from a record, so a record cannot name arbitrary code to run.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch import nn

from tsmtl.data.types import TimeSeriesData
from tsmtl.models.sharing import ModelConfig, build_multitask_model
from tsmtl.tasks import TaskSpec
from tsmtl.training.multitask import evaluate_tasks
from tsmtl.training.tensors import to_tensors

#: Bumped when the record's layout changes.
RECORD_FORMAT = 1
#: The package whose classes a :func:`module_record` may name.
PACKAGE_PREFIX = "tsmtl."


def weights_only_value(value: Any, where: str = "record") -> Any:
    """``value`` as what ``torch.load(weights_only=True)`` reads back: tensors, dicts, lists, str, int, float, bool, None.

    Numpy scalars and arrays become Python numbers and lists, tuples become lists, mapping keys
    strings (tensors are kept, detached, on the CPU).

    Raises
    ------
    TypeError
        Any other object, naming where it is (``record["tasks"]["A"]["classes"][0]``).
    """
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return weights_only_value(value.tolist(), where)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(key): weights_only_value(item, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [weights_only_value(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise TypeError(f"{where} is a {type(value).__name__}; a weights-only torch file holds tensors and plain Python values only")


def model_record(fit, model: ModelConfig, in_channels: int, **info: Any) -> dict[str, Any]:
    """The record of a fit (module docstring): ``fit.model``'s weights, ``model`` and ``fit.tasks`` to rebuild it.

    Parameters
    ----------
    fit : MultiTaskFit
        From :func:`~tsmtl.training.fit.fit_task_group` or :func:`~tsmtl.training.fit.fit_joint`;
        ``fit.model`` holds the best epoch's weights.
    model : ModelConfig
        The backbone and sharing the fit built its model from (``MethodConfig.model``).
    in_channels : int
    **info
        Added as they are (plain values), e.g. ``method``, ``group``, ``split_seed``.
    """
    record = {
        "format": RECORD_FORMAT,
        "state_dict": dict(fit.model.state_dict()),
        "model": asdict(model),
        "in_channels": int(in_channels),
        "tasks": {name: asdict(spec) for name, spec in fit.tasks.items()},
        "best_epoch": int(fit.best_epoch),
        "scores": {split: {key: float(score) for key, score in scores.items()} for split, scores in fit.scores.items()},
        **info,
    }
    return weights_only_value(record)


def module_record(module: nn.Module, config: Mapping[str, Any], **info: Any) -> dict[str, Any]:
    """The record of any ``tsmtl`` network: its class, ``config`` (the constructor's keyword arguments) and weights.

    ``rebuild_model(record)`` calls ``cls(**config)`` and loads the weights, so ``config`` must be
    exactly what built ``module`` (plain values: numbers, strings, lists, dicts).

    Raises
    ------
    TypeError
        ``module``'s class is not defined in the ``tsmtl`` package, or ``config`` holds a value a
        weights-only file cannot (see :func:`weights_only_value`).
    """
    cls = type(module)
    path = f"{cls.__module__}.{cls.__qualname__}"
    if not path.startswith(PACKAGE_PREFIX):
        raise TypeError(f"module_record keeps tsmtl networks only; {path} is not one")
    record = {"format": RECORD_FORMAT, "class": path, "config": dict(config), "state_dict": dict(module.state_dict()), **info}
    return weights_only_value(record)


def _module_class(path: str) -> type[nn.Module]:
    """The ``nn.Module`` class a :func:`module_record` names, imported from ``tsmtl`` only."""
    module_name, _, name = str(path).rpartition(".")
    if not module_name.startswith(PACKAGE_PREFIX) or not name:
        raise ValueError(f"model record names class {path!r}; records rebuild tsmtl classes only")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"model record names class {path!r}, which this version of tsmtl does not have") from error
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"model record names {path!r}, which is not a torch module class")
    return cls


def rebuild_model(record: Mapping[str, Any], device: str | torch.device = "cpu") -> nn.Module:
    """The fitted model of a :func:`model_record` (a ``MultiTaskModel``) or :func:`module_record`, in eval mode on ``device``.

    Raises
    ------
    ValueError
        A record of another format, a class outside ``tsmtl``, or weights that do not fit the
        model the record describes.
    """
    if record.get("format") != RECORD_FORMAT:
        raise ValueError(f"model record format {record.get('format')!r}; this version of tsmtl reads format {RECORD_FORMAT}")
    if "class" in record:
        model = _module_class(record["class"])(**record["config"])
    else:
        specs = {name: TaskSpec(**fields) for name, fields in record["tasks"].items()}
        model = build_multitask_model(ModelConfig(**record["model"]), int(record["in_channels"]), specs)
    try:
        model.load_state_dict(record["state_dict"])
    except RuntimeError as error:
        raise ValueError(f"the record's weights do not fit the model it describes: {error}") from error
    return model.to(device).eval()


def evaluate_record(
    record: Mapping[str, Any], data: Mapping[str, TimeSeriesData], batch_size: int = 128, device: str | torch.device = "cpu"
) -> dict[str, float]:
    """Score the record's model on ``{task: TimeSeriesData}`` (one set per task, as Algorithm 2 evaluates).

    Labels are encoded with the classes the model was trained with (``record["tasks"][task]["classes"]``),
    so ``evaluate_record(record, {t: split[t]["test"] for t in split})["accuracy/<task>"]`` is the
    test accuracy the fit reported (``record["scores"]["test"]``).

    Returns
    -------
    dict
        :func:`~tsmtl.training.multitask.evaluate_tasks`' keys without prefix: ``accuracy/<task>``,
        ``loss/<task>``, ``accuracy`` (mean over the tasks), ...
    """
    if "tasks" not in record:
        raise ValueError(f"evaluate_record scores multitask classifiers; this record holds a {record.get('class')}")
    unknown = sorted(set(data) - set(record["tasks"]))
    if unknown:
        raise ValueError(f"tasks {unknown} are not heads of this model; its tasks are {sorted(record['tasks'])}")
    model = rebuild_model(record, device)
    specs = {name: TaskSpec(**record["tasks"][name]) for name in data}
    sets = []
    for name, series in data.items():
        tensors = to_tensors(series, classes=np.asarray(record["tasks"][name]["classes"]))
        sets.append((tensors, {name: tensors.y}))
    return evaluate_tasks(model, sets, specs, batch_size=batch_size, prefix="")


__all__ = ["PACKAGE_PREFIX", "RECORD_FORMAT", "evaluate_record", "model_record", "module_record", "rebuild_model", "weights_only_value"]
