"""A real HTTP server on 127.0.0.1 (OS-assigned port) in a thread, for fixtures that stand
in for feeds and cited pages; each fixture brings its own request handler."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def loopback_http(handler: type[BaseHTTPRequestHandler], release: threading.Event) -> Iterator[str]:
    """Serve ``handler`` and yield the base URL; on exit set ``release`` (handlers that
    wait on it return at once) and stop the server."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
