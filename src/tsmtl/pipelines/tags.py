"""The tags and namespaces of the project's nodes (issue #11, "Pipelines by paper").

Every node carries one **paper** tag or more and exactly one **stage** tag, so that
``kedro run --pipelines ucr_mtl --tags train`` or kedro-viz's tag filter read like the paper list.

Paper tags:

- ``resnet2d``: ResNet2D multitask TSC, ``dtw_approximation`` (Sec. IV-A), ``ucr_mtl`` and
  ``embedded_mtl`` (Sec. IV-B, Table I), ``ingest_ucr``;
- ``foreclassnet``: ``simulate_ar_ma``, ``foreclassnet_*``, ``ingest_ecg5000``, ``ingest_stocks``;
- ``trep``: ``trep_*``, ``ingest_uea``, ``ingest_ett``, ``ingest_physionet``, ``ingest_yahoo``;
- ``mtl``: the MTL joint-prediction overview, ``mtl_joint``;
- ``data``: data shared by the papers, the ``download_*`` families, ``register_yahoo``, the
  default run's ``embedded`` sets, and every ``ingest_*`` pipeline (beside its paper's tag).

Stage tags:

- ``ingest``: reads, downloads, simulates, splits or prepares data;
- ``train``: fits models (a node that fits and scores in one call is ``train``);
- ``evaluate``: scores fitted models (tables of errors, attacks, collected results);
- ``report``: tables, Markdown and figures for people.

Namespaces group nodes without renaming their datasets (``prefix_datasets_with_namespace=False``,
so the catalog paths stay as they are): the ingest pipelines' nodes live in a namespace named
after the pipeline (``ingest_ucr.select_ucr_tasks``), so the experiment pipelines that include them
show the ingest as one collapsible box; the download families share the ``download`` namespace.
"""

from __future__ import annotations

from collections.abc import Iterable

from kedro.pipeline import Node, Pipeline

PAPER_TAGS = ("resnet2d", "foreclassnet", "trep", "mtl", "data")
INGEST, TRAIN, EVALUATE, REPORT = STAGE_TAGS = ("ingest", "train", "evaluate", "report")


def paper_pipeline(
    nodes: Iterable[Node | Pipeline] | Pipeline, papers: str | Iterable[str], namespace: str | None = None
) -> Pipeline:
    """``nodes`` as one pipeline, every node tagged with ``papers`` and, if given, put in ``namespace``.

    The namespace only groups the nodes (their names become ``<namespace>.<name>``); dataset and
    parameter names are unchanged.

    Raises
    ------
    ValueError
        A paper tag outside :data:`PAPER_TAGS`, or a node without exactly one stage tag of
        :data:`STAGE_TAGS` (each node sets its stage where it is created).
    """
    papers = [papers] if isinstance(papers, str) else list(papers)
    unknown = [paper for paper in papers if paper not in PAPER_TAGS]
    if unknown or not papers:
        raise ValueError(f"paper tags {papers}: each must be one of {PAPER_TAGS}")
    pipeline = Pipeline(nodes, tags=papers, namespace=namespace, prefix_datasets_with_namespace=False)
    for node in pipeline.nodes:
        stages = node.tags.intersection(STAGE_TAGS)
        if len(stages) != 1:
            raise ValueError(f"node {node.name} has stage tags {sorted(stages)}; it needs exactly one of {STAGE_TAGS}")
    return pipeline
