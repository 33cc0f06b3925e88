"""``kedro run --pipelines ucr_mtl``: ``ingest_ucr`` then Table I (ResNet2D paper Sec. IV-B).

The ingest convention (issue #11): every experiment pipeline includes the pipelines that make
its inputs, so it runs on a fresh clone with only the raw data present (``TSMTL_DATA_DIR``).
``ucr_mtl`` reads ``ucr_raw_tasks``, which ``ingest_ucr`` writes, so it is ``ingest_ucr`` + the
experiment's nodes (:func:`create_experiment_pipeline`, also reused by ``embedded_mtl``).
"""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.ingest_ucr import create_pipeline as ingest_ucr
from tsmtl.pipelines.tags import INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import (
    build_accuracy_report,
    feed_groups,
    plot_significance,
    plot_tsne_features,
    run_methods,
    select_groups,
    split_groups,
)


def create_experiment_pipeline() -> Pipeline:
    """The experiment without its ingest. Inputs: ``ucr_raw_tasks``, ``params:ucr.groups``,
    ``params:ucr.split``, ``params:ucr_mtl`` and its sub-keys, ``params:device``.

    The methods (Table I's columns) are data: ``ucr_mtl.methods`` in YAML; every method runs on
    every split seed of ``ucr_mtl.split_seeds``, the fits fanned out as ``ucr_mtl.fanout`` says.
    """
    return paper_pipeline(
        [
            Node(
                select_groups,
                ["ucr_raw_tasks", "params:ucr.groups", "params:ucr_mtl"],
                "ucr_mtl_raw_groups",
                name="select_groups",
                tags=INGEST,
            ),
            Node(
                split_groups,
                ["ucr_mtl_raw_groups", "params:ucr.split", "params:ucr_mtl"],
                "ucr_mtl_split_groups",
                name="split_groups",
                tags=INGEST,
            ),
            Node(
                feed_groups,
                ["ucr_mtl_split_groups", "params:ucr_mtl.feeding"],
                "ucr_mtl_fed_groups",
                name="feed_groups",
                tags=INGEST,
            ),
            Node(
                run_methods,
                ["ucr_mtl_fed_groups", "params:ucr_mtl", "params:device"],
                ["ucr_mtl_run_results", "ucr_mtl_mtl_features", "ucr_mtl_state_dicts"],
                name="run_methods",
                tags=TRAIN,
            ),
            Node(
                build_accuracy_report,
                ["ucr_mtl_run_results", "ucr_mtl_fed_groups", "params:ucr_mtl"],
                ["ucr_mtl_results", "ucr_mtl_accuracy_report", "ucr_mtl_accuracy_markdown"],
                name="build_accuracy_report",
                tags=REPORT,
            ),
            Node(
                plot_significance,
                ["ucr_mtl_run_results", "params:ucr_mtl"],
                "ucr_mtl_significance_plot",
                name="plot_significance",
                tags=REPORT,
            ),
            Node(
                plot_tsne_features,
                ["ucr_mtl_mtl_features", "params:ucr_mtl.seed"],
                "ucr_mtl_tsne_plot",
                name="plot_tsne_features",
                tags=REPORT,
            ),
        ],
        "resnet2d",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """``ingest_ucr`` + :func:`create_experiment_pipeline`: runs with only ``ucr_archive`` on disk."""
    return ingest_ucr() + create_experiment_pipeline()
