"""Helpers of the client's tests: queues shaped like the template's, a faulty HTTP front for moto."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REGION = "eu-west-2"
CASES_FILE = Path(__file__).resolve().parent / "data" / "fl_message_cases.json"
MODEL = "64de7381-991f-53bc-bc3b-809cd62e0933"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sqs_client(endpoint: str, attempts: int = 3) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": attempts}, connect_timeout=2, read_timeout=5
        ),
    )


@dataclass
class Queues:
    """Three queues shaped like the template's: two standard, one FIFO without content deduplication."""

    client: Any
    logs: str
    metrics: str
    status: str

    def urls(self) -> dict[str, str]:
        return {
            "logs_queue_url": self.logs,
            "metrics_queue_url": self.metrics,
            "status_queue_url": self.status,
        }

    def received(self, url: str) -> list[dict[str, Any]]:
        """Every message in the queue (drained): body, parsed body, FIFO group and dedup ids."""
        found: list[dict[str, Any]] = []
        while True:
            messages = self.client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["All"],
                VisibilityTimeout=60,
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                attributes = message.get("Attributes", {})
                found.append(
                    {
                        "text": message["Body"],
                        "body": json.loads(message["Body"]),
                        "group_id": attributes.get("MessageGroupId"),
                        "deduplication_id": attributes.get("MessageDeduplicationId"),
                    }
                )


@dataclass
class FaultyFront:
    """An HTTP endpoint in front of moto: it drops the next ``drop`` connections without an answer,
    answers the next ``throttle`` requests with SQS's throttling error, and forwards the rest.
    ``requests`` counts what arrived, ``actions`` the SQS actions forwarded."""

    upstream: str
    drop: int = 0
    throttle: int = 0
    requests: int = 0
    actions: list[str] = field(default_factory=list)
    port: int = 0
    _server: Any = None

    def start(self) -> None:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                front.requests += 1
                if front.drop > 0:
                    front.drop -= 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if front.throttle > 0:
                    front.throttle -= 1
                    self._answer(400, {"Content-Type": "application/x-amz-json-1.0"}, _THROTTLED)
                    return
                front.actions.append(self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1])
                request = urllib.request.Request(
                    front.upstream + self.path, data=body, method="POST", headers=dict(self.headers)
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        self._answer(response.status, dict(response.headers), response.read())
                except urllib.error.HTTPError as error:
                    self._answer(error.code, dict(error.headers), error.read())

            def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "date",
                        "server",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_of(self, queue_url: str) -> str:
        """``queue_url`` reached through this front (same path, this host)."""
        return self.endpoint + "/" + queue_url.split("/", 3)[3]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


_THROTTLED = json.dumps(
    {"__type": "com.amazonaws.sqs#ThrottlingException", "message": "Rate exceeded"}
).encode()
