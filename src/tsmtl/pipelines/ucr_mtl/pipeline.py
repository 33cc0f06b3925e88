from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_accuracy_report,
    feed_groups,
    plot_significance,
    plot_tsne_features,
    run_methods,
    select_groups,
    split_groups,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Inputs: ``ucr_raw_tasks`` (from ``ingest_ucr``), ``params:ucr.groups``, ``params:ucr.split``,
    ``params:ucr_mtl``, ``params:device``.

    The methods (Table I's columns) are data: ``ucr_mtl.methods`` in YAML; every method runs on
    every split seed of ``ucr_mtl.split_seeds``, the fits fanned out as ``ucr_mtl.fanout`` says.
    """
    return Pipeline(
        [
            Node(select_groups, ["ucr_raw_tasks", "params:ucr.groups", "params:ucr_mtl"], "ucr_mtl_raw_groups", name="select_groups"),
            Node(split_groups, ["ucr_mtl_raw_groups", "params:ucr.split", "params:ucr_mtl"], "ucr_mtl_split_groups", name="split_groups"),
            Node(feed_groups, ["ucr_mtl_split_groups", "params:ucr_mtl.feeding"], "ucr_mtl_fed_groups", name="feed_groups"),
            Node(run_methods, ["ucr_mtl_fed_groups", "params:ucr_mtl", "params:device"], ["ucr_mtl_run_results", "ucr_mtl_mtl_features"],
                 name="run_methods"),  # fmt: skip
            Node(
                build_accuracy_report,
                ["ucr_mtl_run_results", "ucr_mtl_fed_groups", "params:ucr_mtl"],
                ["ucr_mtl_results", "ucr_mtl_accuracy_report", "ucr_mtl_accuracy_markdown"],
                name="build_accuracy_report",
            ),
            Node(plot_significance, ["ucr_mtl_run_results", "params:ucr_mtl"], "ucr_mtl_significance_plot", name="plot_significance"),
            Node(plot_tsne_features, ["ucr_mtl_mtl_features", "params:ucr_mtl"], "ucr_mtl_tsne_plot", name="plot_tsne_features"),
        ]
    )
