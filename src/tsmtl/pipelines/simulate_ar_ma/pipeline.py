"""``simulate_ar_ma``: ForeClassNet Sec. 4's simulated AR/MA data; part of ``foreclassnet_simulations``."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import (
    prepare_forecast_classify,
    report_forecast_classify,
    split_task_group,
)
from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline

from .nodes import simulate_foreclassnet, use_mislabelled_train_labels


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                simulate_foreclassnet,
                "params:simulate_ar_ma",
                ["ar_ma_simulations", "ar_ma_simulation_report"],
                name="simulate_foreclassnet_ar_ma",
                tags=INGEST,
            ),
            Node(
                split_task_group,
                ["ar_ma_simulations", "params:simulate_ar_ma.split"],
                "ar_ma_splits_clean_labels",
                name="split_ar_ma",
                tags=INGEST,
            ),
            Node(
                use_mislabelled_train_labels,
                ["ar_ma_simulations", "ar_ma_splits_clean_labels"],
                ["ar_ma_splits", "ar_ma_label_noise_report"],
                name="use_mislabelled_train_labels",
                tags=INGEST,
            ),
            Node(
                prepare_forecast_classify,
                ["ar_ma_splits", "params:simulate_ar_ma.forecast"],
                "ar_ma_forecast_classify",
                name="prepare_ar_ma_forecast_classify",
                tags=INGEST,
            ),
            Node(
                report_forecast_classify,
                "ar_ma_forecast_classify",
                "ar_ma_forecast_classify_report",
                name="report_ar_ma_forecast_classify",
                tags=REPORT,
            ),
        ],
        "foreclassnet",
        namespace="simulate_ar_ma",
    )
