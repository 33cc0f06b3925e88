from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_accuracy_report,
    evaluate_one_nn_dtw,
    feed_groups,
    plot_tsne_features,
    select_groups,
    train_resnet1d,
    train_resnet1d_mtl,
    train_resnet2d,
    train_resnet2d_mtl,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Inputs: ``ucr_task_splits`` (from ``ingest_ucr``), ``params:ucr.groups``, ``params:ucr_mtl``, ``params:device``."""
    return Pipeline(
        [
            Node(select_groups, ["ucr_task_splits", "params:ucr.groups", "params:ucr_mtl"], "ucr_mtl_groups", name="select_groups"),
            Node(feed_groups, ["ucr_mtl_groups", "params:ucr_mtl.feeding"], "ucr_mtl_fed_groups", name="feed_groups"),
            Node(evaluate_one_nn_dtw, ["ucr_mtl_fed_groups", "params:ucr_mtl"], "one_nn_dtw_results", name="evaluate_one_nn_dtw"),
            Node(train_resnet1d, ["ucr_mtl_fed_groups", "params:ucr_mtl", "params:device"], "resnet1d_results", name="train_resnet1d"),
            Node(train_resnet2d, ["ucr_mtl_fed_groups", "params:ucr_mtl", "params:device"], "resnet2d_results", name="train_resnet2d"),
            Node(train_resnet1d_mtl, ["ucr_mtl_fed_groups", "params:ucr_mtl", "params:device"], ["resnet1d_mtl_results", "resnet1d_mtl_features"], name="train_resnet1d_mtl"),
            Node(train_resnet2d_mtl, ["ucr_mtl_fed_groups", "params:ucr_mtl", "params:device"], ["resnet2d_mtl_results", "resnet2d_mtl_features"], name="train_resnet2d_mtl"),
            Node(
                build_accuracy_report,
                ["one_nn_dtw_results", "resnet1d_results", "resnet2d_results", "resnet1d_mtl_results", "resnet2d_mtl_results", "ucr_mtl_fed_groups", "params:ucr_mtl"],
                ["ucr_mtl_results", "ucr_mtl_accuracy_report", "ucr_mtl_accuracy_markdown"],
                name="build_accuracy_report",
            ),
            Node(plot_tsne_features, ["resnet1d_mtl_features", "resnet2d_mtl_features", "params:ucr_mtl"], "ucr_mtl_tsne_plot", name="plot_tsne_features"),
        ]
    )
