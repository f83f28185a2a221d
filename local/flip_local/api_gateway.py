"""A local API Gateway: serves every ``Api`` event of the template through the real handlers.

A dev identity header stands in for the Cognito authorizer: ``X-Dev-User`` holds a user id (UUID)
or a demo role name (``admin``, ``owner``, ``researcher``, ``viewer``, ``stranger``), and
``X-Dev-Groups`` optional comma-separated groups. No identity → 401, as Cognito answers.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flip_local.flip_api_proxy import UpstreamUnavailable, forward
from flip_local.runtime import FunctionWorker, InvocationError
from flip_local.template import ApiRoute

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,Authorization,X-Dev-User,X-Dev-Groups",
    "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
}


@dataclass(frozen=True)
class BoundRoute:
    route: ApiRoute
    pattern: re.Pattern[str]
    worker: FunctionWorker


def identity_claims(
    headers: Mapping[str, str], demo_users: Mapping[str, tuple[uuid.UUID, list[str]]]
) -> dict[str, str] | None:
    """Authorizer claims from the dev identity headers, or None (→ 401)."""
    user = (headers.get("x-dev-user") or "").strip()
    if not user:
        return None
    groups = [g.strip() for g in (headers.get("x-dev-groups") or "").split(",") if g.strip()]
    if user in demo_users:
        user_id, demo_groups = demo_users[user]
        user, groups = str(user_id), groups or list(demo_groups)
    claims = {"sub": user, "token_use": "id", "auth_time": str(int(time.time()))}
    if groups:
        claims["cognito:groups"] = ",".join(groups)
    return claims


def build_proxy_event(
    method: str,
    raw_path: str,
    headers: Mapping[str, str],
    body: bytes,
    route: ApiRoute,
    path_parameters: Mapping[str, str],
    claims: Mapping[str, str] | None,
    stage: str,
) -> dict[str, Any]:
    """The API Gateway REST (v1) proxy event Lambda would receive for this request."""
    url = urlsplit(raw_path)
    query = parse_qs(url.query, keep_blank_values=True)
    request_id = str(uuid.uuid4())
    # Without binary media types API Gateway passes the body on as text: bytes that are not UTF-8
    # cannot reach the function as they are.
    text = body.decode("utf-8", errors="replace") if body else None
    now = datetime.now(UTC)
    return {
        "resource": route.path,
        "path": url.path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": {key: values[-1] for key, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            # The path as the client called it (the local server serves at the root, like a custom
            # domain without a base path): links such as the logs page's "next" are built from it.
            "path": url.path,
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "accountId": "000000000000",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", "")},
            "authorizer": {"claims": dict(claims)} if claims is not None else None,
        },
        "body": text,
        "isBase64Encoded": False,
    }


def route_precedence(bound: BoundRoute) -> tuple[int, int]:
    """Sort key: literal paths before parameterised ones (``/model/job-types`` before
    ``/model/{modelId}``, as in API Gateway), then longer paths first."""
    return bound.route.path.count("{"), -len(bound.route.path)


def resource_matches(routes: list[BoundRoute], path: str) -> list[tuple[BoundRoute, re.Match[str]]]:
    """The routes of the one resource that serves ``path``: the most specific resource matching it.

    API Gateway picks the resource first and the method second: ``PUT /model/job-types`` finds the
    resource ``/model/job-types``, which has no PUT (405 here), and never reaches ``PUT
    /model/{modelId}`` with ``modelId = "job-types"``.
    """
    matches = [(bound, match) for bound in routes if (match := bound.pattern.match(path))]
    if not matches:
        return []
    best = min(matches, key=lambda item: route_precedence(item[0]))[0].route.path
    return [(bound, match) for bound, match in matches if bound.route.path == best]


def make_server(
    host: str,
    port: int,
    routes: list[BoundRoute],
    demo_users: Mapping[str, tuple[uuid.UUID, list[str]]],
    stage: str,
    static: Mapping[str, Callable[[], tuple[str, bytes]]],
    log: Callable[[str], None],
    *,
    identity: bool = True,
    label: str = "",
    flip_api_url: str | None = None,
    upstream_timeout: float | None = None,
) -> ThreadingHTTPServer:
    """An HTTP server on ``host:port`` routing to the functions' workers.

    ``identity``: the dev identity header stands in for Cognito (no identity → 401); without it (the FL
    ingress, which checks its own key) every request reaches its function. ``label`` starts each
    request's line, and such a server also says what became of the request: the queue and message id
    it went to, or why it was refused. ``flip_api_url``: a path no route matches goes there (the
    template's ``FlipApiUrl`` proxy); without it, such a path is a 404.
    """
    proxy_timeout = {} if upstream_timeout is None else {"timeout": upstream_timeout}

    class Handler(BaseHTTPRequestHandler):
        server_version = "flip-local-apigw"
        protocol_version = "HTTP/1.1"
        _fate = ""  # what became of an FL ingress request, or " via flip-api" (the greedy proxy)

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(
            self, status: int, headers: Mapping[str, str], body: bytes, *, gateway: bool = True
        ) -> None:
            # The gateway's own answers (401, 404, preflight) carry CORS headers, as API Gateway's
            # gateway responses do; a function's response is passed through as it is.
            self.send_response(status)
            for key, value in ({**CORS_HEADERS, **headers} if gateway else headers).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, message: str) -> None:
            """A gateway error in the API's error shape (the template's gateway responses): the FL
            ingress's (``label``) is FLIP's, ``{"detail": …}``."""
            payload: dict[str, Any] = (
                {"detail": message} if label else {"statusCode": status, "message": message}
            )
            self._send(status, {"Content-Type": "application/json"}, json.dumps(payload).encode())

        def _handle(self) -> None:
            started = time.perf_counter()
            method, path = self.command, urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            self._fate = ""
            status = self._dispatch(method, path, body)
            took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
            prefix = f"{label} " if label else ""
            log(f"{prefix}{method} {self.path} → {status} ({took}){self._fate}")

        def _dispatch(self, method: str, path: str, body: bytes) -> int:
            if method == "GET" and path in static:
                content_type, content = static[path]()
                self._send(200, {"Content-Type": content_type}, content)
                return 200
            matches = resource_matches(routes, path)
            if not matches and not flip_api_url:
                hint = (
                    ""
                    if label
                    else ": not a model service route; start the stack with --flip-api-url "
                    "<flip-api base URL> to pass FLIP's other routes to flip-api"
                )
                self._json(404, f"no route for {path}{hint}")
                return 404
            if method == "OPTIONS":  # CORS preflight is answered by API Gateway, without auth
                self._send(204, {}, b"")
                return 204
            if not matches:
                return self._proxy(method, body)
            chosen = [(bound, match) for bound, match in matches if bound.route.method in (method, "ANY")]
            if not chosen:
                self._json(405, f"method {method} not allowed on {path}")
                return 405
            bound, match = chosen[0]
            headers = {key.lower(): value for key, value in self.headers.items()}
            claims = identity_claims(headers, demo_users) if identity else None
            if identity and claims is None:
                self._json(401, "Unauthorized")
                return 401
            event = build_proxy_event(
                method, self.path, headers, body, bound.route, match.groupdict(), claims, stage
            )
            try:
                response = bound.worker.invoke(event)
            except InvocationError as error:
                log(f"  {error}")
                self._json(502, "Internal server error")  # what API Gateway answers
                return 502
            return self._write_lambda_response(response)

        def _proxy(self, method: str, body: bytes) -> int:
            """The greedy ``/{proxy+}`` route: the request as it came, to flip-api; its answer back."""
            assert flip_api_url is not None
            self._fate = " via flip-api"
            try:
                answer = forward(
                    flip_api_url,
                    method,
                    self.path,
                    list(self.headers.items()),
                    body,
                    self.client_address[0],
                    **proxy_timeout,
                )
            except UpstreamUnavailable as error:
                self._json(error.status, error.message)
                return error.status
            self.send_response_only(answer.status)  # flip-api's own Date and Server, not ours
            for key, value in answer.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            return answer.status

        def _write_lambda_response(self, response: Mapping[str, Any]) -> int:
            status = int(response.get("statusCode", 200))
            headers = dict(response.get("headers") or {})
            for key, values in (response.get("multiValueHeaders") or {}).items():
                headers[key] = ",".join(str(v) for v in values)
            body = response.get("body") or ""
            content = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
            if label:
                self._fate = request_fate(status, headers, content)
            self._send(status, headers, content, gateway=False)
            return status

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

    server = _Server((host, port), Handler)
    server.log = log
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    """A client that hangs up before its answer is one line, not socketserver's traceback."""

    log: Callable[[str], None] = print

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):  # BrokenPipeError, ConnectionResetError…
            host, port = client_address[:2]
            self.log(f"client {host}:{port} hung up before its answer ({type(error).__name__})")
            return
        super().handle_error(request, client_address)


def request_fate(status: int, headers: Mapping[str, str], content: bytes) -> str:
    """What became of an FL ingress request, for its line: ``: fl-logs message <id>`` when it was
    enqueued (the consumer's line about that message follows), else ``: <FLIP's detail>``."""
    if status < 300 and "X-FL-Message-Id" in headers:
        return f": {headers.get('X-FL-Queue', 'queue')} message {headers['X-FL-Message-Id']}"
    try:
        detail = json.loads(content).get("detail")
    except (ValueError, AttributeError):
        return ""
    if isinstance(detail, list):
        detail = "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}" for item in detail
        )
    return f": {str(detail)[:160]}" if detail else ""


def swagger_pages(openapi_path: Path) -> dict[str, Callable[[], tuple[str, bytes]]]:
    """``/docs`` and ``/openapi.json``: Swagger UI 5 (it reads OpenAPI 3.1), from the copy that
    Powertools ships for offline use, so no CDN and no extra dependency."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    assets = Path(swagger_ui.__file__).parent
    page = """<!doctype html><html><head><meta charset="utf-8"><title>FLIP model service (local)</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body>
<p style="font-family:sans-serif;margin:8px">Requests carry <code>X-Dev-User</code> =
<input id="devuser" value="researcher" size="40"> (a demo role or a user id) in place of the
Cognito access token the deployed API takes.</p>
<div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script><script>
SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", requestInterceptor: (r) => {
  r.headers["X-Dev-User"] = document.getElementById("devuser").value; return r; }});
</script></body></html>"""
    return {
        "/docs": lambda: ("text/html; charset=utf-8", page.encode()),
        "/openapi.json": lambda: (
            "application/json",
            openapi_path.read_bytes() if openapi_path.exists() else b"{}",
        ),
        "/docs/swagger-ui.css": partial(_asset, assets / "swagger-ui.min.css", "text/css"),
        "/docs/swagger-ui-bundle.js": partial(
            _asset, assets / "swagger-ui-bundle.min.js", "application/javascript"
        ),
    }


def _asset(path: Path, content_type: str) -> tuple[str, bytes]:
    return content_type, path.read_bytes()
