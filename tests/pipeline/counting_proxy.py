"""A counting reverse proxy in front of a registry: every request passes through and is recorded.

The real docker-registry runs with its access log off; tests that must prove what was (not)
pulled put this proxy in front and read ``requests``. It forwards GET and HEAD requests verbatim
(headers, status, body) over plain HTTP, which is all a pull uses.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.harness.registry import free_port

_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class CountingProxy:
    """The proxy's address (``host``) and the (method, path) of every request it forwarded."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    def paths(self, method: str = "GET") -> list[str]:
        with self._lock:
            return [p for m, p in self.requests if m == method]


def _handler(upstream: str, proxy: CountingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            proxy.record(self.command, self.path)
            conn = http.client.HTTPConnection(upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            conn.request(self.command, self.path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in _HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            conn.close()

        do_GET = _forward
        do_HEAD = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def counting_proxy(upstream: str) -> Iterator[CountingProxy]:
    """A proxy on a free loopback port forwarding to ``upstream`` (``host:port``), for the block."""
    port = free_port()
    proxy = CountingProxy(f"127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(upstream, proxy))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
