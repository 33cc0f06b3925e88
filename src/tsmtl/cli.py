"""Project commands: Kedro's ``run`` and ``registry`` that check pipeline names first (issue #11).

Kedro loads a project's ``<package>.cli`` ``cli`` group ahead of its own commands (and
``find_run_command``, used by the ``tsmtl`` console script, takes its ``run``). The commands
here are Kedro's own command objects (same options, help and callbacks) behind a check of the
pipeline names against :func:`tsmtl.pipeline_registry.pipeline_names`: an unknown name ends in
one line, exit status 1, no traceback::

    $ kedro run --pipelines ucr_mtll
    Error: no pipeline 'ucr_mtll' (did you mean 'ucr_mtl'?); available: __default__, download, ...

rather than Kedro's ImportError traceback. ``kedro run`` also moves to the project root first,
so that the relative paths of the parameters (``data/06_models/...``) land in the project when
it is started from a folder below it.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.registry import describe_registered_pipeline, list_registered_pipelines
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.framework.project import pipelines as kedro_pipelines

from tsmtl.pipeline_registry import pipeline_names


class UnknownPipelineError(click.ClickException):
    """A pipeline name that is not registered; click prints it as one ``Error: ...`` line, exit status 1."""


def unknown_pipeline_message(name: str, available: list[str]) -> str:
    """``no pipeline '<name>' (did you mean '<close>'?); available: <sorted names>`` (one line)."""
    close = difflib.get_close_matches(name, available, n=1)
    suggestion = f" (did you mean '{close[0]}'?)" if close else ""
    return f"no pipeline '{name}'{suggestion}; available: {', '.join(sorted(available))}"


def check_pipeline_names(names: Iterable[str]) -> None:
    """Raise :class:`UnknownPipelineError` for the first of ``names`` that is not registered."""
    available = pipeline_names()
    for name in names:
        if name not in available:
            raise UnknownPipelineError(unknown_pipeline_message(name, available))


def checked_command(
    command: click.Command,
    names_of: Callable[[dict[str, Any]], Iterable[str]],
    before: Callable[[click.Context], None] | None = None,
) -> click.Command:
    """``command`` (its params, help and callback) with :func:`check_pipeline_names` on ``names_of(kwargs)`` first.

    ``before(ctx)``, if given, runs after the check and before ``command``'s callback.
    """
    original = command.callback

    def callback(**kwargs: Any) -> Any:
        check_pipeline_names(names_of(kwargs))
        if before is not None:
            before(click.get_current_context())
        return original(**kwargs)

    return click.Command(
        name=command.name,
        params=command.params,
        callback=callback,
        help=command.help,
        short_help=command.short_help,
        epilog=command.epilog,
        context_settings=command.context_settings,
    )


def _run_pipeline_names(kwargs: dict[str, Any]) -> list[str]:
    """``--pipelines a,b`` (a list once parsed) and the deprecated ``--pipeline a``."""
    return [*(kwargs.get("pipelines") or []), *([kwargs["pipeline"]] if kwargs.get("pipeline") else [])]


def _to_project_root(ctx: click.Context) -> None:
    """``cd`` to the project root of ``ctx.obj`` (Kedro's ProjectMetadata), when there is one.

    The catalog's paths are made absolute by Kedro, the parameters' paths are not: a run started
    in ``notebooks/`` would otherwise write ``notebooks/data/06_models``. Relative paths given in
    ``--params`` are then relative to the project root (``--config`` and ``--conf-source`` are
    resolved before).
    """
    project_path = getattr(ctx.obj, "project_path", None)
    if project_path is not None:
        os.chdir(project_path)


run = checked_command(kedro_run, _run_pipeline_names, before=_to_project_root)
describe = checked_command(describe_registered_pipeline, lambda kwargs: [kwargs["name"]])


def _list_all_pipelines(**kwargs: Any) -> Any:
    """Kedro's ``registry list``, after lifting the one-name filter an earlier ``describe`` or run left
    on the lazy registry in this process (Kedro's ``list`` would then show that name only)."""
    kedro_pipelines.set_requested(None)
    return list_registered_pipelines.callback(**kwargs)


list_all = click.Command(
    name="list",
    params=list_registered_pipelines.params,
    callback=_list_all_pipelines,
    help=list_registered_pipelines.help,
    context_settings=list_registered_pipelines.context_settings,
)


@click.group(context_settings=CONTEXT_SETTINGS, name="kedro")  # merged with Kedro's project commands, ahead of them
def cli() -> None:
    """Project specific commands of tsmtl (``run`` and ``registry`` check pipeline names)."""


@cli.group()
def registry() -> None:
    """Commands for working with registered pipelines."""


registry.add_command(list_all, "list")
registry.add_command(describe, "describe")
cli.add_command(run)
