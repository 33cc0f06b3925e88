"""``kedro run --pipelines foreclassnet_ecg``: ECG5000 from the UCR folder, every protocol, report."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import compare_on_ecg, plot_saliency, prepare_ecg, report_ecg

P = "params:foreclassnet_ecg"


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                prepare_ecg,
                ["ucr_archive", P],
                "foreclassnet_ecg_forecast_classify",
                name="prepare_ecg5000_protocols",
                tags=INGEST,
            ),
            Node(
                compare_on_ecg,
                ["foreclassnet_ecg_forecast_classify", P, "params:device"],
                ["foreclassnet_ecg_results", "foreclassnet_ecg_models"],
                name="compare_methods_on_ecg5000",
                tags=TRAIN,
            ),
            Node(
                report_ecg,
                ["foreclassnet_ecg_results", "foreclassnet_ecg_forecast_classify", P],
                ["foreclassnet_ecg_report", "foreclassnet_ecg_markdown"],
                name="report_foreclassnet_ecg",
                tags=REPORT,
            ),
            Node(
                plot_saliency,
                ["foreclassnet_ecg_models", "foreclassnet_ecg_forecast_classify", f"{P}.foreclassnet"],
                "foreclassnet_ecg_saliency_plot",
                name="plot_ecg5000_saliency",
                tags=REPORT,
            ),
        ],
        "foreclassnet",
    )
