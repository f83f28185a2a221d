"""The functions of ``template.yaml`` loaded in-process as Lambda would, and the events they get.

Handlers are imported from their ``CodeUri`` under a module name of their own (every handler module
is ``app``). API events come from :func:`flip_local.api_gateway.build_proxy_event`, SQS events from
:func:`flip_local.sqs.lambda_sqs_event`, so the benchmark feeds the handlers what the local stack does.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from flip_local.api_gateway import build_proxy_event
from flip_local.runtime import LocalContext, load_module
from flip_local.sqs import REGION, LocalQueue, lambda_sqs_event
from flip_local.template import ApiRoute, FunctionSpec, Template, load_template

ROOT = Path(__file__).resolve().parents[1]
STAGE = "dev"


def context() -> LocalContext:
    """A Lambda context for one in-process invocation (the local stack's stand-in)."""
    return LocalContext.start("flip-models-bench")


@cache
def template() -> Template:
    """``template.yaml`` as the local stack reads it."""
    return load_template()


def functions() -> dict[str, FunctionSpec]:
    """Every function of the template, by the name of its folder (``get_model_metrics``…)."""
    return {spec.code_uri.name: spec for spec in template().functions.values()}


def load_handler(name: str) -> Callable[[dict[str, Any], Any], Any]:
    """``Handler`` of the function in folder ``name``, imported once under a unique module name."""
    spec = functions()[name]
    module_name, _, attribute = spec.handler.rpartition(".")
    module = load_module(spec.code_uri / f"{module_name}.py", f"bench_{name}_{module_name}")
    handler: Callable[[dict[str, Any], Any], Any] = getattr(module, attribute)
    return handler


def route_of(name: str) -> ApiRoute:
    """The function's first route (the model page's is ``GET /model/{modelId}``)."""
    return functions()[name].api_routes[0]


def api_event(
    name: str,
    user_id: uuid.UUID,
    path_parameters: Mapping[str, str] | None = None,
    query: str = "",
    body: Any = None,
    *,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event of the function's route (its first, or its ``method`` one),
    signed in as ``user_id``, with ``headers`` besides the usual ones."""
    route = (
        route_of(name)
        if method is None
        else next(r for r in functions()[name].api_routes if r.method == method)
    )
    path = route.path
    for key, value in (path_parameters or {}).items():
        path = path.replace("{" + key + "}", value)
    raw = json.dumps(body).encode() if body is not None else b""
    headers = {"content-type": "application/json", "accept": "application/json", **(headers or {})}
    claims = {"sub": str(user_id), "token_use": "access", "scope": "aws.cognito.signin.user.admin"}
    event: dict[str, Any] = build_proxy_event(
        route.method,
        path + (f"?{query}" if query else ""),
        headers,
        raw,
        route,
        dict(path_parameters or {}),
        claims,
        STAGE,
    )
    return event


def fl_queue(name: str) -> LocalQueue:
    """A stand-in for the queue that feeds an SQS function (only its ARN reaches the handler)."""
    arn = f"arn:aws:sqs:{REGION}:000000000000:{name}"
    url = f"https://sqs.{REGION}.amazonaws.com/000000000000/{name}"
    return LocalQueue(name, name, url, arn, name.endswith(".fifo"))


def sqs_event(bodies: Sequence[Mapping[str, Any]], queue: LocalQueue) -> dict[str, Any]:
    """The Lambda SQS event of one batch of message bodies, as the event source mapping builds it."""
    now = str(int(time.time() * 1000))
    messages = []
    for body in bodies:
        message_id = str(uuid.uuid4())
        attributes = {
            "ApproximateReceiveCount": "1",
            "ApproximateFirstReceiveTimestamp": now,
            "SenderId": "AROAEXAMPLEFLSERVER:fl-server",
            "SentTimestamp": now,
        }
        if queue.fifo:
            attributes.update(MessageGroupId=str(body.get("model_id")), MessageDeduplicationId=message_id)
        messages.append(
            {
                "MessageId": message_id,
                "ReceiptHandle": f"bench-{uuid.uuid4().hex}",
                "Body": json.dumps(body),
                "Attributes": attributes,
            }
        )
    event: dict[str, Any] = lambda_sqs_event(messages, queue)
    return event


def check_api(name: str, response: Mapping[str, Any]) -> None:
    """A benchmarked call must have succeeded: a timing of an error page measures nothing."""
    status = int(response.get("statusCode", 0))
    if not 200 <= status < 300:
        raise RuntimeError(f"{name} answered {status}: {str(response.get('body'))[:300]}")


def check_batch(name: str, response: Mapping[str, Any]) -> None:
    if response.get("batchItemFailures"):
        raise RuntimeError(f"{name} reported failures: {response['batchItemFailures'][:3]}")
