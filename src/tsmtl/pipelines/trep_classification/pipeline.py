"""``kedro run --pipelines trep_classification``: every UEA set found plus aeon's BasicMotions and
JapaneseVowels, the three methods over seeds, the accuracy table beside the paper's."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import collect_datasets, compare_methods, report_classification

P = "params:trep_classification"


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                collect_datasets,
                ["uea_archive", P],
                ["trep_classification_data", "trep_classification_availability"],
                name="collect_trep_classification_datasets",
                tags=INGEST,
            ),
            Node(
                compare_methods,
                ["trep_classification_data", P, "params:device"],
                ["trep_classification_results", "trep_classification_encoders"],
                name="compare_trep_ts2vec_supervised",
                tags=TRAIN,
            ),
            Node(
                report_classification,
                ["trep_classification_results", "trep_classification_availability", P],
                ["trep_classification_report", "trep_classification_markdown"],
                name="report_trep_classification",
                tags=REPORT,
            ),
        ],
        "trep",
    )
