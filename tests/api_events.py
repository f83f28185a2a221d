"""API Gateway REST proxy events as a Cognito user-pool authorizer delivers them, and a caller.

The caller signs in as the FLIP web app does: ``Authorization: Bearer <access token>``, so the claims
API Gateway passes on are an access token's (``token_use: access``, a ``scope``, ``client_id``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from tests.lambda_support import lambda_context, load_function

ORIGIN = "https://flip.example.org"


def api_event(
    method: str,
    resource: str,
    path_parameters: dict[str, str] | None = None,
    *,
    user_id: uuid.UUID | str | None = None,
    groups: list[str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """A REST proxy event for ``resource`` (``/model/{modelId}``) with its parameters filled in.

    ``user_id`` None means no authorizer claims at all; groups become the comma-separated string
    API Gateway passes for ``cognito:groups``.
    """
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace("{" + name + "}", value)
    claims: dict[str, str] = {}
    if user_id is not None:
        claims = {
            "sub": str(user_id),
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "client_id": "3n4b5urk1ft4fl3mg5e62d9ado",
            "username": str(user_id),
        }
        if groups:
            claims["cognito:groups"] = ",".join(groups)
    headers = {"Origin": ORIGIN, "Content-Type": "application/json", "Accept": "application/json"}
    if user_id is not None:
        headers["Authorization"] = "Bearer eyJraWQiOiJleGFtcGxlIn0.eyJzdWIiOiJleGFtcGxlIn0.c2lnbmF0dXJl"
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": "dev",
            "requestId": str(uuid.uuid4()),
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/dev{path}",
            "apiId": "flipapi01",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "pytest"},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": text,
        "isBase64Encoded": False,
    }


#: Lambda's limit on a function's response, the whole response object as JSON (SPEC §4).
LAMBDA_RESPONSE_LIMIT = 6_291_456
#: The most bytes a response's body may have (SPEC §4).
BODY_LIMIT = 5_000_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    raw_body: str | None
    #: The handler's return value, as Lambda receives it.
    result: dict[str, Any] | None = None

    @property
    def body(self) -> Any:
        return json.loads(self.raw_body) if self.raw_body else None

    @property
    def lambda_size(self) -> int:
        """The response's size as Lambda measures it: the whole object as JSON, headers and escaping
        included. ``json.dumps``' default (ASCII, every other character escaped) is the larger of
        the runtimes' two forms (Python 3.12's sends UTF-8 unescaped), so it bounds both."""
        return len(json.dumps(self.result).encode())

    @property
    def body_size(self) -> int:
        return len((self.raw_body or "").encode())


def invoke(function: str, event: dict[str, Any]) -> ApiResponse:
    """Call ``functions/<function>/app.py``'s ``lambda_handler`` in-process, as Lambda would."""
    result = load_function(function).lambda_handler(event, lambda_context())
    headers = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, ",".join(values))
    return ApiResponse(result["statusCode"], headers, result.get("body"), result)


@dataclass(frozen=True)
class Person:
    """A test caller (a person signed in through Cognito): an id and its groups."""

    user_id: uuid.UUID
    groups: tuple[str, ...] = ()

    @classmethod
    def new(cls, *groups: str) -> Person:
        return cls(uuid.uuid4(), groups)

    def call(
        self,
        function: str,
        method: str,
        resource: str,
        path_parameters: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ApiResponse:
        event = api_event(
            method, resource, path_parameters, user_id=self.user_id, groups=list(self.groups), **kwargs
        )
        return invoke(function, event)
