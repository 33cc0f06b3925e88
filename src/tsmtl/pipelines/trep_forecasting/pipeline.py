"""``kedro run --pipelines trep_forecasting``: ETT series -> encoders + ridge per horizon -> table, plot."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import (
    evaluate_forecasting,
    plot_forecasting,
    prepare_forecasting_series,
    report_forecasting,
)

P = "params:trep_forecasting"


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                prepare_forecasting_series,
                ["ett_archive", P],
                "trep_forecasting_splits",
                name="prepare_ett_forecasting_series",
                tags=INGEST,
            ),
            Node(
                evaluate_forecasting,
                ["trep_forecasting_splits", P, "params:device"],
                ["trep_forecasting_results", "trep_forecasting_encoders"],
                name="forecast_ett_with_ridge_on_representations",
                tags=TRAIN,
            ),
            Node(
                report_forecasting,
                ["trep_forecasting_results", P],
                ["trep_forecasting_report", "trep_forecasting_markdown"],
                name="report_trep_forecasting",
                tags=REPORT,
            ),
            Node(plot_forecasting, "trep_forecasting_report", "trep_forecasting_plot", name="plot_mse_vs_horizon", tags=REPORT),
        ],
        "trep",
    )
