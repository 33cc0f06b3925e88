"""``tsmtl`` and ``python -m tsmtl``: the project's ``kedro run`` (:data:`tsmtl.cli.run`) from any folder of the project.

``tsmtl --pipelines ucr_mtl --env quick`` is ``kedro run --pipelines ucr_mtl --env quick``: it
finds the project root above the current folder (the ``pyproject.toml`` with ``[tool.kedro]``),
bootstraps it and runs there. Outside a project it says so in one line (exit status 2).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from kedro.utils import find_kedro_project

NOT_IN_PROJECT = (
    "tsmtl: no Kedro project in {cwd} or above it; run tsmtl inside the tsmtl project "
    "(the folder with pyproject.toml, or any folder below it)"
)


def main(*args: Any, **kwargs: Any) -> Any:
    project_path = find_kedro_project(Path.cwd())
    if project_path is None:
        print(NOT_IN_PROJECT.format(cwd=Path.cwd()), file=sys.stderr)  # noqa: T201 (before Kedro's logging is set up)
        sys.exit(2)
    # Imported here: kedro.framework.project configures (and announces) logging on import.
    from kedro.framework.cli.utils import find_run_command
    from kedro.framework.startup import bootstrap_project

    metadata = bootstrap_project(project_path)
    kwargs.setdefault("obj", metadata)  # the run command moves to metadata.project_path
    kwargs["standalone_mode"] = not hasattr(sys, "ps1")  # an interactive session gets the result back
    run = find_run_command(metadata.package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    main()
