"""``kedro run --pipelines mtl_joint``: the MTL joint-prediction overview on two real datasets.

For each dataset (PhysioNet 2019 set A hourly, ETTh1): prepare -> describe -> single-task vs
every sharing x weighting over seeds -> comparison table (per-task metrics, Δm %, ranks) ->
per-task loss weights over the epochs.
"""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import (
    build_report,
    describe_splits,
    plot_weights,
    prepare_etth1,
    prepare_physionet,
    run_experiment,
)

P = "params:mtl_joint"


def _experiment(dataset: str) -> list[Node]:
    prefix = f"mtl_joint_{dataset}"
    return [
        Node(describe_splits, f"{prefix}_splits", f"{prefix}_data_report", name=f"describe_{dataset}_joint_data", tags=REPORT),
        Node(
            run_experiment,
            [f"{prefix}_splits", f"{P}.{dataset}", P, "params:device"],
            [f"{prefix}_results", f"{prefix}_weights_history"],
            name=f"train_{dataset}_joint_models",
            tags=TRAIN,
        ),
        Node(
            build_report,
            [f"{prefix}_results", f"{prefix}_splits", f"{P}.{dataset}", P],
            [f"{prefix}_report", f"{prefix}_markdown"],
            name=f"report_{dataset}_joint_models",
            tags=REPORT,
        ),
        Node(
            plot_weights, f"{prefix}_weights_history", f"{prefix}_weights_plot", name=f"plot_{dataset}_task_weights", tags=REPORT
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                prepare_physionet,
                ["physionet_raw", f"{P}.physionet.data"],
                "mtl_joint_physionet_splits",
                name="prepare_physionet_joint_data",
                tags=INGEST,
            ),
            Node(
                prepare_etth1,
                ["ett_archive", f"{P}.etth1.data"],
                "mtl_joint_etth1_splits",
                name="prepare_etth1_joint_data",
                tags=INGEST,
            ),
            *_experiment("physionet"),
            *_experiment("etth1"),
        ],
        "mtl",
    )
