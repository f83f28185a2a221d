"""Invoke functions with their sample events (events/) in a process of their own, as the database role
of ``DATABASE_URL``: ``python -m tests.deploy.run_as_role api|fl_logs|fl_metrics|fl_status``.

A process of its own, so that every function reads its configuration (the database URL, its DLQ)
as it does in Lambda: once. Prints one JSON line: for ``api``, the status code of every API function
of the template, in the order run (by method: reads first, the deletes last); for an SQS function, its
batch item failures and the rejection kinds of what it dead-lettered (into a moto queue).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import boto3
from moto import mock_aws

from flip_local.template import load_template
from tests.lambda_support import ROOT, lambda_context, load_function

#: Reads first; deletes last (they hide the models from later calls), a model's before its project's.
METHOD_ORDER = ("get", "post", "put", "patch", "delete")


def api_routes() -> list[tuple[str, str, str]]:
    """(METHOD, path, function folder) of every API route of the template, in the order to call them."""
    routes = [
        (METHOD_ORDER.index(route.method.lower()), route.method.upper(), route.path, spec.code_uri.name)
        for spec in load_template(parameters={"CorsAllowOrigin": "*"}).functions.values()
        for route in spec.api_routes
    ]
    return [(method, path, folder) for _, method, path, folder in sorted(routes)]


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text())
    return event


def route_samples() -> dict[tuple[str, str], dict[str, Any]]:
    """The API Gateway sample events of events/, by (METHOD, resource)."""
    found = {}
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        if isinstance(event, dict) and "httpMethod" in event:
            found[(event["httpMethod"], event["resource"])] = event
    return found


def invoke(name: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
    handler = load_function(name).lambda_handler
    response: dict[str, Any] = handler(event if event is not None else sample(name), lambda_context())
    return response


def run_api() -> dict[str, Any]:
    samples = route_samples()
    return {
        "status": {
            f"{method} {path}": invoke(folder, samples[(method, path)])["statusCode"]
            for method, path, folder in api_routes()
        }
    }


def run_sqs(name: str) -> dict[str, Any]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-2")
        fifo = name == "fl_status"
        attributes = {"FifoQueue": "true"} if fifo else {}
        url = sqs.create_queue(QueueName=f"{name}-dlq" + (".fifo" if fifo else ""), Attributes=attributes)[
            "QueueUrl"
        ]
        os.environ["DEAD_LETTER_QUEUE_URL"] = url
        response = invoke(name)
        kinds = []
        while messages := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for message in messages:
                kinds.append(message["MessageAttributes"]["rejection_kind"]["StringValue"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return {"failed": response["batchItemFailures"], "rejections": sorted(kinds)}


def main(which: str) -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "FLIP",
        "DB_SSL": "false",
    }.items():
        os.environ.setdefault(name, value)
    result = run_api() if which == "api" else run_sqs(which)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
