"""A stand-in for a deployment's flip-api, upstream of the greedy proxy (``FlipApiUrl``, issue 24).

It records every request exactly as it arrived (method, target, headers in order, body bytes) and
answers by path: ``/echo/...`` the recorded request as JSON, ``/binary`` every byte value with two
``Set-Cookie`` headers, ``/status/<code>`` that status with a body, ``/slow/<seconds>`` after a
sleep. Everything else is flip-api's own 404.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BINARY = bytes(range(256)) * 4


@dataclass
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class StandInFlipApi:
    url: str
    received: list[Received] = field(default_factory=list)


def _handler(api: StandInFlipApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "stand-in-flip-api"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Received(self.command, self.path, list(self.headers.items()), body)
            api.received.append(request)
            path = self.path.split("?", 1)[0]
            if path.startswith("/api/echo"):
                payload = {
                    "method": request.method,
                    "target": request.target,
                    "headers": request.headers,
                    "body": base64.b64encode(body).decode(),
                }
                self._answer(200, [("Content-Type", "application/json")], json.dumps(payload).encode())
            elif path == "/api/binary":
                cookies = [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")]
                self._answer(200, [("Content-Type", "application/octet-stream"), *cookies], BINARY)
            elif path.startswith("/api/status/"):
                status = int(path.rsplit("/", 1)[1])
                detail = json.dumps({"detail": f"flip-api says {status}"}).encode()
                self._answer(status, [("Content-Type", "application/json")], detail)
            elif path.startswith("/api/slow/"):
                time.sleep(float(path.rsplit("/", 1)[1]))
                self._answer(200, [("Content-Type", "text/plain")], b"finally")
            else:
                self._answer(404, [("Content-Type", "application/json")], b'{"detail":"Not Found"}')

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return Handler


@contextmanager
def stand_in_flip_api() -> Iterator[StandInFlipApi]:
    """A stand-in flip-api on a free loopback port; its base URL ends in ``/api``, as flip-api's."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(StandInFlipApi("")))
    api = StandInFlipApi(f"http://127.0.0.1:{server.server_address[1]}/api")
    server.RequestHandlerClass = _handler(api)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
