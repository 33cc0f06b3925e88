"""Kedro-Viz (issue #11): the catalog's layers, and the ``kedro viz build`` site in a real browser.

The browser test builds the site in a copy of the project, serves the ``build/`` folder on
127.0.0.1 and opens every registered pipeline (``?pid=<name>``) in headless Chromium
(``/usr/bin/chromium``, driven by Playwright without its own browsers): each page must render
its nodes -- the nodes of that pipeline -- and the layer bands of what it shows, with no page
error and no console error but the one a static build always logs (below). Skipped, with the
reason, when Chromium or Playwright is missing (``.ci/run`` installs Chromium on Debian).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.pipelines.kedro_project import PROJECT_ROOT, make_project_copy
from tsmtl.pipeline_registry import pipeline_names

CHROMIUM = Path("/usr/bin/chromium")
#: Kedro's data layers, in data-flow order (the folders data/01_raw ... data/08_reporting).
LAYERS = ("raw", "intermediate", "primary", "feature", "model_input", "models", "model_output", "reporting")
#: What the machine needs: no sandbox as root, no GPU, nothing fetched from the network.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: A static build has no server: the page's deploy dialog asks ``api/metadata`` (which only
#: ``kedro viz run`` answers), gets the 404 page and logs these two errors. Nothing else may fail.
STATIC_BUILD_ERRORS = (
    re.compile(r"^Failed to load resource: the server responded with a status of 404 .*"),
    re.compile(r"^metadata fetch error: +SyntaxError: .*is not valid JSON"),
)
STATIC_BUILD_MISSING = {"/api/metadata"}


def _catalog_entries() -> dict[str, tuple[Path, dict]]:
    """Every entry and dataset factory of every environment's catalog: ``{"<env>/<name>": (file, config)}``."""
    entries = {}
    for path in sorted((PROJECT_ROOT / "conf").glob("*/catalog*.yml")):
        for name, config in (yaml.safe_load(path.read_text()) or {}).items():
            if not name.startswith("_"):  # YAML anchors
                entries[f"{path.parent.name}/{name}"] = (path, config)
    return entries


def test_every_catalog_entry_and_factory_has_the_layer_of_its_data_folder():
    entries = _catalog_entries()
    assert "base/{name}_state_dicts" in entries and "test/physionet_raw" in entries
    for name, (path, config) in entries.items():
        layer = ((config.get("metadata") or {}).get("kedro-viz") or {}).get("layer")
        assert layer in LAYERS, f"{path.relative_to(PROJECT_ROOT)}: {name} has layer {layer!r}; use one of {LAYERS}"
        folder = re.match(r"data/0\d_(\w+)/", str(config.get("filepath", "")))
        if folder:  # written datasets: the layer is the folder's
            assert layer == folder.group(1), f"{name}: layer {layer} in data/0*_{folder.group(1)}"
        else:  # the read-only sources (and the Kaggle key that fetches them)
            assert layer == "raw", f"{name}: no data/0*_ folder, so raw data; got layer {layer}"


def _serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    """``folder`` over HTTP on 127.0.0.1 (a free port), in a daemon thread; the server and its base URL."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _build_viz(tmp_path: Path) -> Path:
    """``kedro viz build`` in a copy of the project (no data needed: the graph comes from the code and conf)."""
    project = make_project_copy(tmp_path)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "viz", "build"], cwd=project, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"kedro viz build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "circular dependency" not in done.stdout + done.stderr, "kedro-viz found a cycle among the layers"
    return project / "build"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_viz_build_renders_every_pipeline_with_its_layers_in_chromium(tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install -y chromium; .ci/run does it as root)")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")

    build = _build_viz(tmp_path)
    main = json.loads((build / "api/main").read_text())
    assert [p["id"] for p in main["pipelines"]] == pipeline_names()  # every registered pipeline, sorted
    assert set(main["layers"]) == set(LAYERS)
    graphs = {name: json.loads((build / "api/pipelines" / name).read_text()) for name in pipeline_names()}
    for name, graph in graphs.items():
        data = [node for node in graph["nodes"] if node["type"] == "data"]
        assert graph["layers"] and {n["layer"] for n in data if n["layer"]} <= set(graph["layers"]), name
        for node in data:  # a layer on every catalog dataset; only the in-memory ones have none
            assert (node["layer"] is None) == node["dataset_type"].endswith("MemoryDataset"), (name, node["name"])

    server, base = _serve(build)
    profile = tmp_path / "chromium-profile"
    try:
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            try:
                page = browser.pages[0] if browser.pages else browser.new_page()
                problems: list[str] = []
                external: set[str] = set()
                page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
                page.on(
                    "console",
                    lambda message: message.type == "error"
                    and not any(p.match(message.text) for p in STATIC_BUILD_ERRORS)
                    and problems.append(f"console error: {message.text}"),
                )
                page.on(
                    "response",
                    lambda response: response.status >= 400
                    and response.url.removeprefix(base) not in STATIC_BUILD_MISSING
                    and problems.append(f"HTTP {response.status}: {response.url}"),
                )
                page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url} {request.failure}"))

                def offline(route) -> None:
                    """The page links Google Fonts (Inter): answered empty, the machine being offline; nothing else may leave."""
                    external.add(route.request.url.split("?")[0])
                    route.fulfill(status=200, body="", content_type="text/css")

                page.route(lambda url: not url.startswith(base), offline)
                rendered_bands = {}
                for name, graph in graphs.items():
                    problems.clear()
                    page.goto(f"{base}/?pid={name}")
                    page.wait_for_selector("g.pipeline-node", timeout=20_000)
                    page.wait_for_load_state("networkidle")
                    shown = page.locator("g.pipeline-node").all_text_contents()
                    names = {node["name"]: node for node in graph["nodes"]}
                    assert shown and set(shown) <= set(names), f"{name}: shows {sorted(set(shown) - set(names))}, not its nodes"
                    bands = page.locator(".pipeline-layer-name").all_text_contents()
                    visible = {names[n].get("layer") for n in shown} - {None}
                    assert bands == [layer for layer in graph["layers"] if layer in visible], f"{name}: layer bands {bands}"
                    assert not problems, f"?pid={name}:\n" + "\n".join(problems)
                    rendered_bands[name] = bands
                assert external <= {"https://fonts.googleapis.com/css2"}, f"the page fetched {external}"
                # the experiments show their trained models and learned features as catalog datasets
                assert {"raw", "feature", "models", "model_output", "reporting"} <= set(rendered_bands["ucr_mtl"])
            finally:
                browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
