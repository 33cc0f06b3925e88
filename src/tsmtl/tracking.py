"""Experiment tracking with kedro-mlflow: optional, off unless installed AND enabled (issue #11, Experiment tracking).

``pip install -e ".[tracking]"`` installs kedro-mlflow 2.x (mlflow 3.x); ``TSMTL_TRACKING=1 kedro run
--pipelines <name> [--env <env>]`` then records the run in the project's ``mlruns/`` file store
(``conf/base/mlflow.yml``: SQLite ``mlruns/mlflow.db`` and ``mlruns/artifacts/``, since MLflow 3.7+
refuses the plain file store; ``mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db`` shows it).
Per Kedro run, one MLflow run named after the pipeline(s), holding:

* parameters: every ``params:`` input of every node (kedro-mlflow's own hook, flattened with ``.``);
* per-epoch metrics of every fit the Trainer runs in this process: each epoch record
  (``train_loss``, ``train_loss/<task>``, ``val_<metric>``, ``seconds``) at ``step=epoch`` (0-based),
  under the key ``<node>/<fit label>/<metric>``, e.g.
  ``embedded_mtl.run_methods/split_0/resnet1d_mtl/Embedded/val_accuracy`` (a second fit with the
  same label in the same node gets ``<label>_2``);
* the result tables and figures as artifacts: every ``*_markdown`` text (``<dataset>.md``), every
  ``*_report`` table (``<dataset>.csv``) and every matplotlib figure (``<dataset>.png``) a node saves.

Off by default, and then truly off: kedro-mlflow registers its hook through an entry point as soon
as it is installed, which would open a run (and write ``mlruns/``) on every ``kedro run``;
``settings.py`` disables that entry point (:data:`KEDRO_MLFLOW_PLUGIN`) and registers
:func:`tracking_hooks` instead, which is empty unless ``TSMTL_TRACKING`` is set. Without the
extra nothing of mlflow is imported. (With the extra installed, Kedro's plugin discovery still
imports kedro-mlflow, hence mlflow, when a session starts: about 2.5 s, nothing written.) Under
``torchrun`` only rank 0 tracks.

Not tracked: per-epoch metrics of fits run in fan-out worker processes (:mod:`tsmtl.parallel`,
``fanout.n_jobs > 1`` or Dask): a worker has no MLflow run and the epoch events stay in its process.
Their results still reach the run through the ``*_report`` / ``*_markdown`` artifacts; run with
``n_jobs: 1`` for per-epoch curves.
"""

from __future__ import annotations

import contextvars
import importlib.util
import logging
import os
import re
import warnings
import weakref
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from tsmtl.hooks import MARKDOWN_SUFFIX
from tsmtl.training import distributed
from tsmtl.training.events import add_epoch_listener

log = logging.getLogger(__name__)

#: Environment variable that turns tracking on (``1``, ``true``, ``yes`` or ``on``; anything else is off).
TRACKING_ENV = "TSMTL_TRACKING"
#: kedro-mlflow's distribution name as its metadata spells it, and as pip does: ``DISABLE_HOOKS_FOR_PLUGINS``.
KEDRO_MLFLOW_PLUGIN = ("kedro_mlflow", "kedro-mlflow")
#: Dataset-name ending of the CSV reports logged as artifacts (the Markdown ending is the console's,
#: :data:`tsmtl.hooks.MARKDOWN_SUFFIX`; figures are logged whatever their name).
REPORT_SUFFIX = "_report"
#: The catalog's ``{name}_plot`` PNGs are saved so (conf/base/catalog.yml); the artifacts match them.
FIGURE_SAVE_KWARGS = {"dpi": 120, "bbox_inches": "tight"}

#: OmegaConf's deprecation warning when kedro-mlflow's hook registers its ``km.random_name`` resolver
#: (tracking on): filtered by message and issuing module, never a whole category, as settings.py does.
warnings.filterwarnings(
    "ignore", message=r"register_new_resolver\(\) is deprecated", category=UserWarning,
    module=r"kedro_mlflow\.framework\.hooks\.mlflow_hook",
)  # fmt: skip
#: mlflow >= 2.20 warns once that kedro-mlflow's KedroPipelineModel.predict has no type hints, when
#: that class is defined, inside mlflow's own ``"once"`` filter: no filter installed beforehand hides it.
PREDICT_TYPE_HINTS_WARNING = re.compile(r"(\x1b\[\d+m)?Add type hints to the `predict` method")

_current_node: contextvars.ContextVar[str | None] = contextvars.ContextVar("tsmtl_tracking_node", default=None)


def tracking_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``TSMTL_TRACKING`` asks for tracking (``1``/``true``/``yes``/``on``, any case)."""
    value = (os.environ if environ is None else environ).get(TRACKING_ENV, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def tracking_hooks() -> tuple:
    """The hooks ``settings.py`` adds: none unless tracking is enabled, and none on ranks > 0.

    Enabled: kedro-mlflow's :class:`~kedro_mlflow.framework.hooks.mlflow_hook.MlflowHook` (a new
    instance: the entry point's own is unregistered by ``DISABLE_HOOKS_FOR_PLUGINS``) and
    :class:`TrackingHook`. Enabled without kedro-mlflow installed: an ImportError saying what to install.
    """
    installed = _import_kedro_mlflow()
    if not tracking_enabled() or not distributed.is_main_process():
        return ()
    if not installed:
        raise ImportError(
            f'{TRACKING_ENV}={os.environ[TRACKING_ENV]} asks for experiment tracking, but kedro-mlflow is not '
            'installed: pip install -e ".[tracking]"'
        )
    from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook

    return (MlflowHook(), TrackingHook())


def _import_kedro_mlflow() -> bool:
    """Import kedro-mlflow now, when installed, without mlflow's warning about it; whether it is installed.

    Once the extra is installed, Kedro imports kedro-mlflow for every command and session, tracking
    on or off (plugin discovery: its CLI commands and its hook's entry point), and mlflow's warning
    (:data:`PREDICT_TYPE_HINTS_WARNING`) would open every ``kedro`` command. ``settings.py`` is
    imported before that (Kedro's CLI bootstraps the project first), so importing it here, with that
    warning recorded instead of shown, costs nothing more; any other warning is shown as usual.
    """
    if importlib.util.find_spec("kedro_mlflow") is None:
        return False
    with warnings.catch_warnings(record=True) as caught:
        import kedro_mlflow.mlflow  # noqa: F401 -- defines KedroPipelineModel
    for warning in caught:
        if not PREDICT_TYPE_HINTS_WARNING.match(str(warning.message)):
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    return True


def project_sqlite_uri(uri: str | None, project_path: str | os.PathLike) -> str | None:
    """``sqlite:///<relative path>`` taken from ``project_path`` (``sqlite:////abs/path``); any other URI unchanged.

    kedro-mlflow makes a relative *path* absolute under the project, but leaves URIs with a scheme
    as they are, and SQLite would resolve a relative one from the working directory.
    """
    prefix = "sqlite:///"
    if uri is None or not uri.startswith(prefix) or uri.startswith(prefix + "/") or uri == prefix + ":memory:":
        return uri
    return prefix + str(Path(project_path).resolve() / uri[len(prefix) :])


def metric_key(*parts: str) -> str:
    """An MLflow metric name from ``parts`` joined by ``/``: characters MLflow refuses become ``_``.

    MLflow accepts alphanumerics, ``_ - . /``, spaces and colons, and no empty, ``.`` or ``..``
    path segment; ``metric_key("fit", "train_loss/x+y")`` is ``"fit/train_loss/x_y"``.
    """
    segments = [re.sub(r"[^\w.\- ]", "_", segment) for part in parts for segment in str(part).split("/")]
    return "/".join(segment for segment in segments if segment.strip(".").strip())


class EpochMetricsLogger:
    """Epoch listener (:mod:`tsmtl.training.events`): ``mlflow.log_metrics(record, step=epoch)``.

    Keys are ``<node>/<fit label>/<metric>`` (:func:`metric_key`), the node being the Kedro node
    running the fit (none outside a node). Does nothing when no MLflow run is active.
    """

    def __init__(self) -> None:
        self._prefixes: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._seen: Counter[str] = Counter()

    def _prefix(self, fit: Any) -> str:
        try:
            return self._prefixes[fit]
        except (KeyError, TypeError):
            pass
        node = _current_node.get()
        base = metric_key(*(part for part in (node, getattr(fit, "progress_label", None) or "fit") if part))
        self._seen[base] += 1
        prefix = base if self._seen[base] == 1 else f"{base}_{self._seen[base]}"
        try:
            self._prefixes[fit] = prefix
        except TypeError:  # not weak-referenceable: a new prefix at every epoch would split the curve, so keep the base
            return base
        return prefix

    def __call__(self, record: Mapping[str, float], context: Any) -> None:
        import mlflow

        if mlflow.active_run() is None:
            return
        prefix = self._prefix(context)
        metrics = {metric_key(prefix, key): float(value) for key, value in record.items() if key != "epoch"}
        mlflow.log_metrics(metrics, step=int(record["epoch"]))


def log_artifact_of(dataset_name: str, data: Any) -> str | None:
    """Log ``data`` saved as ``dataset_name`` to the active MLflow run when it is a result.

    A matplotlib figure becomes ``<dataset_name>.png``, a ``*_markdown`` string ``<dataset_name>.md``,
    a ``*_report`` DataFrame ``<dataset_name>.csv``; anything else is not logged. Returns the
    artifact path, or None.
    """
    import mlflow
    import pandas as pd
    from matplotlib.figure import Figure

    if mlflow.active_run() is None:
        return None
    if isinstance(data, Figure):
        artifact = f"{dataset_name}.png"
        mlflow.log_figure(data, artifact, save_kwargs=FIGURE_SAVE_KWARGS)
    elif dataset_name.endswith(MARKDOWN_SUFFIX) and isinstance(data, str):
        artifact = f"{dataset_name}.md"
        mlflow.log_text(data, artifact)
    elif dataset_name.endswith(REPORT_SUFFIX) and isinstance(data, pd.DataFrame):
        artifact = f"{dataset_name}.csv"
        mlflow.log_text(data.to_csv(index=False), artifact)
    else:
        return None
    return artifact


class TrackingHook:
    """What kedro-mlflow does not log by itself: per-epoch metrics of every fit, result tables, figures.

    Registered by :func:`tracking_hooks` next to kedro-mlflow's hook, which opens the MLflow run
    before the pipeline and closes it after (or marks it failed on an error). Before that hook reads
    ``mlflow.yml``, a relative ``sqlite:///`` tracking URI is made absolute under the project root
    and its folder created (:func:`project_sqlite_uri`).
    """

    def __init__(self) -> None:
        self._remove_listener = None
        self._artifacts = 0

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        loader = context.config_loader
        loader.config_patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])  # kedro-mlflow's patterns
        try:
            conf = dict(loader["mlflow"])
        except MissingConfigException:
            return
        server = dict(conf.get("server") or {})
        uri = server.get("mlflow_tracking_uri")
        absolute = project_sqlite_uri(uri, context.project_path)
        if absolute != uri:
            Path(absolute.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)  # SQLite makes no folder
            loader["mlflow"] = {**conf, "server": {**server, "mlflow_tracking_uri": absolute}}  # what kedro-mlflow reads next

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._artifacts = 0
        self._remove_listener = add_epoch_listener(EpochMetricsLogger())

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async) -> None:
        _current_node.set(node.name)

    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs, is_async) -> None:
        _current_node.set(None)

    @hook_impl
    def on_node_error(self, error, node, catalog, inputs, is_async) -> None:
        _current_node.set(None)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:
        artifact = log_artifact_of(dataset_name, data)
        if artifact is not None:
            self._artifacts += 1
            log.debug("tracking: logged %s", artifact)

    @hook_impl
    def after_pipeline_run(self, run_params, pipeline, catalog) -> None:
        import mlflow

        self._stop_listening()
        run = mlflow.active_run()
        if run is not None:  # kedro-mlflow closes it after this hook
            log.info(
                "tracking: MLflow run %s %s: %d metrics, %d artifacts (mlflow ui --backend-store-uri %s)",
                run.info.run_name, run.info.run_id, len(mlflow.get_run(run.info.run_id).data.metrics), self._artifacts,
                mlflow.get_tracking_uri(),
            )  # fmt: skip

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog) -> None:
        self._stop_listening()

    def _stop_listening(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
