"""The local stack's stand-in for the template's greedy proxy (``FlipApiUrl``, issue 24).

Every request no model route matches is passed to the deployment's existing flip-api, as API
Gateway's ``http_proxy`` integration passes it: method, path, query, headers (``Authorization``
included; flip-api verifies it), body and status unchanged, repeated headers kept apart, bytes
untouched. Only what a proxy must change changes: the hop-by-hop headers (RFC 9110 §7.6.1) and
``Host``, which names the upstream; ``X-Forwarded-For`` gains the caller, as API Gateway adds it.
An upstream that does not answer within API Gateway's 29 s is a 504, one that cannot be reached a
502, each in the gateway's error shape.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

#: API Gateway's integration timeout for a REST API (the most it allows without a quota increase).
UPSTREAM_TIMEOUT_SECONDS: Final = 29.0
#: Headers that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1).
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass(frozen=True)
class UpstreamAnswer:
    """What flip-api answered: its status, its headers in order (a name may repeat), its body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class UpstreamUnavailable(Exception):
    """flip-api could not be reached (``status`` 502) or did not answer in time (504)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def validate_base_url(base_url: str) -> str:
    """``http(s)://host[:port][/path]`` without a trailing slash, query or fragment; else ValueError."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"--flip-api-url must be http(s)://host[:port][/path], got {base_url!r}")
    return base_url.rstrip("/")


def forward(
    base_url: str,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    client_address: str,
    timeout: float = UPSTREAM_TIMEOUT_SECONDS,
) -> UpstreamAnswer:
    """Send one request to ``base_url`` + ``target`` (the path and query as the caller sent them)."""
    upstream = urlsplit(base_url)
    connection_class = (
        http.client.HTTPSConnection if upstream.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(upstream.netloc, timeout=timeout)
    forwarded = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() != "host"]
    prior = [v for k, v in forwarded if k.lower() == "x-forwarded-for"]
    forwarded = [(k, v) for k, v in forwarded if k.lower() != "x-forwarded-for"]
    forwarded.append(("X-Forwarded-For", ", ".join([*prior, client_address])))
    try:
        connection.putrequest(method, upstream.path + target, skip_accept_encoding=True)
        for key, value in forwarded:
            if key.lower() != "content-length":
                connection.putheader(key, value)
        if body or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        content = response.read()
    except TimeoutError as error:
        raise UpstreamUnavailable(504, "Endpoint request timed out") from error
    except (OSError, http.client.HTTPException) as error:
        raise UpstreamUnavailable(502, f"flip-api at {base_url} did not answer: {error}") from error
    finally:
        connection.close()
    answer_headers = [
        (k, v)
        for k, v in response.getheaders()
        if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
    ]
    return UpstreamAnswer(response.status, answer_headers, content)
