"""``embedded_mtl``: ``ucr_mtl``'s experiment nodes fed with the aeon tasks, as a Kedro namespace.

Its own folder so that Kedro 1.7, which imports ``tsmtl.pipelines.<name>`` for
``kedro run --pipelines <name>`` and ``kedro registry describe <name>``, finds it (issue #11).
Inputs: ``embedded_classification`` (aeon's shipped tasks) in place of ``ucr_raw_tasks`` (so no
ingest to include), split as ``embedded.split``, the groups of ``embedded_groups``, and the
``embedded_mtl`` parameters in place of every ``ucr_mtl`` one. Outputs are
``embedded_mtl.<name>`` (``embedded_mtl.ucr_mtl_results``, ...).
"""

from kedro.pipeline import Pipeline

from tsmtl.pipelines.ucr_mtl.pipeline import create_experiment_pipeline

RENAMED_PARAMETERS = {
    "params:ucr.groups": "params:embedded_groups",
    "params:ucr.split": "params:embedded.split",
}


def _embedded_parameter(name: str) -> str:
    """``params:ucr_mtl[.<key>]`` -> ``params:embedded_mtl[.<key>]``; the two of :data:`RENAMED_PARAMETERS`; others unchanged."""
    if name == "params:ucr_mtl" or name.startswith("params:ucr_mtl."):
        return "params:embedded_mtl" + name[len("params:ucr_mtl") :]
    return RENAMED_PARAMETERS.get(name, name)


def create_pipeline(**kwargs) -> Pipeline:
    experiment = create_experiment_pipeline()
    parameters = {name: _embedded_parameter(name) for name in experiment.inputs() if name.startswith("params:")}
    return Pipeline(
        experiment,
        inputs={"ucr_raw_tasks": "embedded_classification"},
        parameters=parameters,
        namespace="embedded_mtl",
    )
