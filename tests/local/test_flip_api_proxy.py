"""One base URL for the web app (issue 24): the local gateway passes every route that is not the
model service's to flip-api (``--flip-api-url``, the template's ``FlipApiUrl`` proxy), untouched,
and keeps the model routes on their functions. The upstream is a stand-in flip-api on loopback."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import pytest

from flip_local.api_gateway import BoundRoute, make_server
from flip_local.demo import DEMO_USERS
from flip_local.stack import free_port
from flip_local.template import load_template
from tests.stand_in_flip_api import BINARY, StandInFlipApi, stand_in_flip_api


@dataclass
class RecordingWorker:
    """Stands in for a function's worker process: answers every invocation, records the events."""

    name: str
    events: list[Mapping[str, Any]] = field(default_factory=list)

    def invoke(self, event: Mapping[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": self.name}


@dataclass(frozen=True)
class Answer:
    status: int
    msg: http.client.HTTPMessage
    body: bytes

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.msg.get(name, default)


@dataclass
class Gateway:
    port: int
    workers: dict[str, RecordingWorker]
    lines: list[str]

    def request(
        self, method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b""
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        for key, value in headers or []:
            connection.putheader(key, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        answer = Answer(response.status, response.msg, response.read())
        connection.close()
        return answer


@contextmanager
def local_gateway(flip_api_url: str | None, upstream_timeout: float | None = None) -> Iterator[Gateway]:
    """The local stack's gateway with the template's routes, each bound to a recording worker."""
    template = load_template(parameters={"Stage": "local"})
    workers = {spec.logical_id: RecordingWorker(spec.logical_id) for spec in template.functions.values()}
    routes = [
        BoundRoute(route, route.pattern(), cast(Any, workers[spec.logical_id]))
        for spec in template.functions.values()
        for route in spec.api_routes
    ]
    lines: list[str] = []
    port = free_port()
    server = make_server(
        "127.0.0.1",
        port,
        routes,
        DEMO_USERS,
        "local",
        {},
        lines.append,
        flip_api_url=flip_api_url,
        upstream_timeout=upstream_timeout,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Gateway(port, workers, lines)
    finally:
        server.shutdown()
        server.server_close()


def body_of(response: Answer) -> bytes:
    return response.body


@pytest.fixture
def upstream() -> Iterator[StandInFlipApi]:
    with stand_in_flip_api() as api:
        yield api


def test_a_flip_route_reaches_flip_api_exactly_as_it_was_sent(upstream: StandInFlipApi) -> None:
    """Method, path, query (repeated and encoded keys), every header in order (repeats kept, the
    token included), the body's bytes: what the web app sent is what flip-api receives."""
    body = BINARY + b'{"name": "x"}'
    headers = [
        ("Authorization", "Bearer eyJ.token.sig"),
        ("Content-Type", "application/octet-stream"),
        ("X-Trace", "one"),
        ("X-Trace", "two"),
        ("Accept", "*/*"),
    ]
    target = "/echo/projects/7f0c/users?role=a&role=b&q=%20x%2Fy&empty="
    with local_gateway(upstream.url) as gateway:
        response = gateway.request("POST", target, headers, body)

    assert response.status == 200
    received = upstream.received[-1]
    assert (received.method, received.target, received.body) == ("POST", "/api" + target, body)
    sent = [(k, v) for k, v in received.headers if k.lower() not in ("host", "x-forwarded-for")]
    assert [(k, v) for k, v in sent if k.lower() != "content-length"] == headers
    assert dict(received.headers)["Content-Length"] == str(len(body))
    assert dict(received.headers)["Host"] == urlsplit(upstream.url).netloc
    assert dict(received.headers)["X-Forwarded-For"] == "127.0.0.1"
    assert json.loads(body_of(response))["target"] == "/api" + target
    assert not any(worker.events for worker in gateway.workers.values())


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_every_method_is_passed_through(upstream: StandInFlipApi, method: str) -> None:
    with local_gateway(upstream.url) as gateway:
        response = gateway.request(method, "/echo/fl/initiate/42", [("Authorization", "Bearer t")])
    assert response.status == 200
    assert (upstream.received[-1].method, upstream.received[-1].target) == (
        method,
        "/api/echo/fl/initiate/42",
    )


def test_a_binary_answer_and_repeated_headers_come_back_byte_for_byte(upstream: StandInFlipApi) -> None:
    with local_gateway(upstream.url) as gateway:
        response = gateway.request("GET", "/binary")
    assert response.status == 200
    assert body_of(response) == BINARY
    assert response.msg.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert response.getheader("Content-Type") == "application/octet-stream"
    assert response.getheader("Server", "").startswith("stand-in-flip-api")  # flip-api's, not the gateway's


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500, 502, 503])
def test_flip_apis_errors_are_passed_through_as_they_are(upstream: StandInFlipApi, status: int) -> None:
    with local_gateway(upstream.url) as gateway:
        response = gateway.request("GET", f"/status/{status}")
    assert response.status == status
    assert json.loads(body_of(response)) == {"detail": f"flip-api says {status}"}
    deadline = time.monotonic() + 10
    while not gateway.lines and time.monotonic() < deadline:  # the line follows the answer
        time.sleep(0.01)
    [line] = gateway.lines
    assert line.startswith(f"GET /status/{status} → {status} (")
    assert line.endswith(" via flip-api")


def test_a_slow_flip_api_is_waited_for_within_the_gateways_timeout(upstream: StandInFlipApi) -> None:
    with local_gateway(upstream.url, upstream_timeout=5) as gateway:
        response = gateway.request("GET", "/slow/1.5")
    assert (response.status, body_of(response)) == (200, b"finally")


def test_a_flip_api_slower_than_the_timeout_is_a_504(upstream: StandInFlipApi) -> None:
    with local_gateway(upstream.url, upstream_timeout=0.5) as gateway:
        response = gateway.request("GET", "/slow/2")
    assert response.status == 504
    assert json.loads(body_of(response))["message"] == "Endpoint request timed out"


def test_an_unreachable_flip_api_is_a_502_naming_it() -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    with local_gateway(url) as gateway:
        response = gateway.request("GET", "/projects")
    assert response.status == 502
    assert url in json.loads(body_of(response))["message"]


@pytest.mark.parametrize(
    ("method", "path", "function"),
    [
        ("GET", "/models", "ListModelsFunction"),
        ("GET", "/model/job-types", "GetJobTypesFunction"),
        ("GET", "/model/0b1a5e4c-9a53-4c38-9d35-0d1b6f1f2a11/logs", "GetModelLogsFunction"),
        ("POST", "/model", "CreateModelFunction"),
    ],
)
def test_the_model_routes_keep_their_functions(
    upstream: StandInFlipApi, method: str, path: str, function: str
) -> None:
    with local_gateway(upstream.url) as gateway:
        response = gateway.request(
            method, path, [("X-Dev-User", "admin")], b"{}" if method == "POST" else b""
        )
    assert (response.status, body_of(response)) == (200, function.encode())
    assert upstream.received == []


def test_preflight_on_a_flip_route_is_answered_by_the_gateway(upstream: StandInFlipApi) -> None:
    """As API Gateway's CORS mock answers OPTIONS on /{proxy+}, without flip-api."""
    with local_gateway(upstream.url) as gateway:
        response = gateway.request("OPTIONS", "/projects/1", [("Origin", "http://localhost:8080")])
    assert response.status == 204
    assert response.getheader("Access-Control-Allow-Origin") == "*"
    assert upstream.received == []


def test_without_the_flag_a_flip_route_is_a_404_that_names_it() -> None:
    with local_gateway(None) as gateway:
        response = gateway.request("GET", "/projects")
    assert response.status == 404
    assert "--flip-api-url" in json.loads(body_of(response))["message"]
