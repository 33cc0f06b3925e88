from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_accuracy_report,
    evaluate_distance_baselines,
    feed_groups,
    plot_tsne_features,
    select_groups,
    train_networks,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Inputs: ``ucr_task_splits`` (from ``ingest_ucr``), ``params:ucr.groups``, ``params:ucr_mtl``, ``params:device``.

    The methods (Table I's columns) are data: ``ucr_mtl.methods`` in YAML.
    """
    return Pipeline(
        [
            Node(select_groups, ["ucr_task_splits", "params:ucr.groups", "params:ucr_mtl"], "ucr_mtl_groups", name="select_groups"),
            Node(feed_groups, ["ucr_mtl_groups", "params:ucr_mtl.feeding"], "ucr_mtl_fed_groups", name="feed_groups"),
            Node(evaluate_distance_baselines, ["ucr_mtl_fed_groups", "params:ucr_mtl"], "ucr_mtl_baseline_results", name="evaluate_distance_baselines"),
            Node(train_networks, ["ucr_mtl_fed_groups", "params:ucr_mtl", "params:device"], ["ucr_mtl_network_results", "ucr_mtl_mtl_features"], name="train_networks"),
            Node(
                build_accuracy_report,
                ["ucr_mtl_baseline_results", "ucr_mtl_network_results", "ucr_mtl_fed_groups", "params:ucr_mtl"],
                ["ucr_mtl_results", "ucr_mtl_accuracy_report", "ucr_mtl_accuracy_markdown"],
                name="build_accuracy_report",
            ),
            Node(plot_tsne_features, ["ucr_mtl_mtl_features", "params:ucr_mtl"], "ucr_mtl_tsne_plot", name="plot_tsne_features"),
        ]
    )
