from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import (
    prepare_forecast_classify,
    report_forecast_classify,
    split_task_group,
)
from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline

from .nodes import build_earnings_moves


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                build_earnings_moves,
                ["stock_prices", "stock_earnings", "params:stocks"],
                ["earnings_moves", "earnings_events"],
                name="build_earnings_moves",
                tags=INGEST,
            ),
            Node(
                split_task_group,
                ["earnings_moves", "params:stocks.split"],
                "earnings_moves_splits",
                name="split_earnings_moves",
                tags=INGEST,
            ),
            Node(
                prepare_forecast_classify,
                ["earnings_moves_splits", "params:stocks.forecast"],
                "earnings_forecast_classify",
                name="prepare_earnings_forecast_classify",
                tags=INGEST,
            ),
            Node(
                report_forecast_classify,
                "earnings_forecast_classify",
                "earnings_forecast_classify_report",
                name="report_earnings_forecast_classify",
                tags=REPORT,
            ),
        ],
        ["data", "foreclassnet"],
        namespace="ingest_stocks",
    )
