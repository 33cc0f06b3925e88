"""``kedro run --pipelines dtw_approximation``: pairs -> DTW targets -> Siamese learners -> Figs. 1 and 4."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import EVALUATE, INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import (
    compute_targets,
    generate_pairs,
    plot_error_boxplot,
    plot_importance_maps,
    summarise_test_errors,
    tabulate_test_errors,
    tabulate_training_history,
    train_distance_models,
)

P = "params:dtw_approximation"


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(generate_pairs, [f"{P}.data", "params:seed"], "dtw_approximation_pairs", name="generate_dtw_pairs", tags=INGEST),
            Node(
                compute_targets,
                ["dtw_approximation_pairs", f"{P}.windows"],
                "dtw_approximation_targets",
                name="compute_dtw_targets",
                tags=INGEST,
            ),
            Node(
                train_distance_models,
                [
                    "dtw_approximation_pairs",
                    "dtw_approximation_targets",
                    f"{P}.models",
                    f"{P}.training",
                    f"{P}.checkpoint_dir",
                    "params:device",
                    "params:seed",
                ],
                "dtw_approximation_fits",
                name="train_dtw_models",
                tags=TRAIN,
            ),
            Node(
                tabulate_test_errors,
                "dtw_approximation_fits",
                "dtw_approximation_errors_report",
                name="tabulate_dtw_errors",
                tags=EVALUATE,
            ),
            Node(
                summarise_test_errors,
                "dtw_approximation_errors_report",
                "dtw_approximation_summary_report",
                name="summarise_dtw_errors",
                tags=REPORT,
            ),
            Node(
                tabulate_training_history,
                "dtw_approximation_fits",
                "dtw_approximation_training_report",
                name="tabulate_dtw_training",
                tags=REPORT,
            ),
            Node(
                plot_error_boxplot,
                "dtw_approximation_errors_report",
                "dtw_approximation_error_boxplot",
                name="plot_dtw_errors",
                tags=REPORT,
            ),
            Node(
                plot_importance_maps,
                ["dtw_approximation_fits", "dtw_approximation_pairs", f"{P}.importance"],
                "dtw_approximation_importance_maps",
                name="plot_dtw_importance_maps",
                tags=REPORT,
            ),
        ],
        "resnet2d",
    )
