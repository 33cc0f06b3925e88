"""``kedro run --pipelines foreclassnet_stocks``: earnings windows, random and chronological splits, Table 11."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import INGEST, REPORT, TRAIN, paper_pipeline

from .nodes import compare_on_stocks, prepare_stock_moves, report_stocks

P = "params:foreclassnet_stocks"


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                prepare_stock_moves,
                ["stock_prices", "stock_earnings", P],
                ["foreclassnet_stocks_forecast_classify", "foreclassnet_stocks_balance_report"],
                name="prepare_stock_moves",
                tags=INGEST,
            ),
            Node(
                compare_on_stocks,
                ["foreclassnet_stocks_forecast_classify", P, "params:device"],
                "foreclassnet_stocks_results",
                name="compare_methods_on_stock_moves",
                tags=TRAIN,
            ),
            Node(
                report_stocks,
                ["foreclassnet_stocks_results", "foreclassnet_stocks_balance_report", P],
                ["foreclassnet_stocks_report", "foreclassnet_stocks_markdown"],
                name="report_foreclassnet_stocks",
                tags=REPORT,
            ),
        ],
        "foreclassnet",
    )
