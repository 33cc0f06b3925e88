"""``kedro run --pipelines trep_anomaly``: streaming anomalies and Sepsis, report and plot."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import EVALUATE, INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import (
    collect_results,
    evaluate_sepsis,
    evaluate_streaming,
    plot_streaming,
    prepare_sepsis_patients,
    prepare_streaming,
    report_anomaly,
)

P = "params:trep_anomaly"


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                prepare_streaming,
                ["embedded_anomaly", f"{P}.streaming"],
                "trep_anomaly_streaming_splits",
                name="prepare_streaming_anomaly_series",
                tags=INGEST,
            ),
            Node(
                prepare_sepsis_patients,
                ["physionet_raw", f"{P}.sepsis"],
                "trep_anomaly_sepsis_splits",
                name="prepare_sepsis_patients",
                tags=INGEST,
            ),
            Node(
                evaluate_streaming,
                ["trep_anomaly_streaming_splits", P, "params:device"],
                ["trep_anomaly_streaming_rows", "trep_anomaly_streaming_fits", "trep_anomaly_traces"],
                name="evaluate_streaming_anomalies",
                tags=TRAIN,
            ),
            Node(
                evaluate_sepsis,
                ["trep_anomaly_sepsis_splits", P, "params:device"],
                ["trep_anomaly_sepsis_rows", "trep_anomaly_sepsis_fits"],
                name="evaluate_sepsis_windows",
                tags=TRAIN,
            ),
            Node(
                collect_results,
                [
                    "trep_anomaly_streaming_rows",
                    "trep_anomaly_sepsis_rows",
                    "trep_anomaly_streaming_fits",
                    "trep_anomaly_sepsis_fits",
                ],
                ["trep_anomaly_results", "trep_anomaly_encoders"],
                name="collect_anomaly_results",
                tags=EVALUATE,
            ),
            Node(
                report_anomaly,
                ["trep_anomaly_results", "trep_anomaly_streaming_splits", "trep_anomaly_sepsis_splits", P],
                ["trep_anomaly_report", "trep_anomaly_markdown"],
                name="report_trep_anomaly",
                tags=REPORT,
            ),
            Node(plot_streaming, ["trep_anomaly_traces", P], "trep_anomaly_plot", name="plot_streaming_detection", tags=REPORT),
        ],
        "trep",
    )
