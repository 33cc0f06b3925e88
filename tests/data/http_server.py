"""A throw-away HTTP server on 127.0.0.1 for the download tests.

Binds an ephemeral port on the loopback interface only, serves from a thread,
records every request (path and headers) and is always shut down on exit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class RequestLog:
    """What the server saw: one ``(path, headers)`` entry per request."""

    entries: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, headers) -> None:
        with self.lock:
            self.entries.append((path, {k.lower(): v for k, v in headers.items()}))

    @property
    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.entries]


@dataclass
class LocalServer:
    url: str  # http://127.0.0.1:<port>
    log: RequestLog


class _QuietFiles(SimpleHTTPRequestHandler):
    request_log: RequestLog

    def log_message(self, format, *args):  # noqa: A002 - silence stderr
        pass

    def send_head(self):
        self.request_log.add(self.path, self.headers)
        return super().send_head()


@contextlib.contextmanager
def serve(handler_class: type[BaseHTTPRequestHandler]) -> Iterator[LocalServer]:
    """Run ``handler_class`` on 127.0.0.1:<free port> until the ``with`` block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-http", daemon=True
    )
    thread.start()
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    try:
        yield LocalServer(f"http://127.0.0.1:{port}", getattr(handler_class, "request_log", RequestLog()))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def serve_directory(root: str | Path) -> Iterator[LocalServer]:
    """Serve the files under ``root`` (with HTML folder listings), logging every request."""
    log = RequestLog()
    handler = type("Files", (_QuietFiles,), {"request_log": log})
    with serve(partial(handler, directory=str(root))) as server:  # type: ignore[arg-type]
        yield LocalServer(server.url, log)
