"""``kedro run --pipelines trep_missing_data``: ArticularyWordRecognition with 0-90 % of the time
steps removed (T-Rep vs TS2Vec), the accuracy curve, and the latent heatmap of a series with a
missing segment (DodgerLoopGame as in the paper when the UCR folder has it)."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import (
    evaluate_missing_data,
    fit_heatmap_encoders,
    plot_latent_heatmap,
    plot_missing_data_curve,
    report_missing_data,
    select_dataset,
)

P = "params:trep_missing_data"


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                select_dataset,
                ["uea_archive", f"{P}.dataset"],
                "trep_missing_data_input",
                name="select_missing_data_dataset",
                tags=INGEST,
            ),
            Node(
                evaluate_missing_data,
                ["trep_missing_data_input", P, "params:device"],
                "trep_missing_data_results",
                name="accuracy_against_missing_data",
                tags=TRAIN,
            ),
            Node(
                report_missing_data,
                ["trep_missing_data_results", P],
                ["trep_missing_data_report", "trep_missing_data_markdown"],
                name="report_trep_missing_data",
                tags=REPORT,
            ),
            Node(
                plot_missing_data_curve,
                ["trep_missing_data_report", P],
                "trep_missing_data_plot",
                name="plot_accuracy_against_missing_data",
                tags=REPORT,
            ),
            Node(
                fit_heatmap_encoders,
                ["ucr_archive", "trep_missing_data_input", P, "params:device"],
                "trep_missing_data_encoders",
                name="fit_latent_heatmap_encoders",
                tags=TRAIN,
            ),
            Node(
                plot_latent_heatmap,
                ["trep_missing_data_encoders", f"{P}.heatmap"],
                "trep_missing_data_heatmap_plot",
                name="plot_latent_heatmap",
                tags=REPORT,
            ),
        ],
        "trep",
    )
