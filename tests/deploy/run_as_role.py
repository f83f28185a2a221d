"""Invoke functions with their sample events (events/) in a process of their own, as the database role
of ``DATABASE_URL``: ``python -m tests.deploy.run_as_role api|fl_ingress|fl_logs|fl_metrics|fl_status``.

A process of its own, so that every function reads its configuration (the database URL, its DLQ)
as it does in Lambda: once. Prints one JSON line: for ``api``, the status code of every API function
of the template, in the order run (by method: reads first, the deletes last); for an SQS function, its
batch item failures and the rejection kinds of what it dead-lettered (into a moto queue); for the FL
ingress, the status of its sample (its read-only checks run as the role; it sends to moto's queues).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

import boto3
from moto import mock_aws

from flip_local.stack import INGRESS_API
from flip_local.template import load_template
from tests.lambda_support import ROOT, lambda_context, load_function

#: Reads first; deletes last (they hide the models from later calls), a model's before its project's.
METHOD_ORDER = ("get", "post", "put", "patch", "delete")


def api_routes() -> list[tuple[str, str, str]]:
    """(METHOD, path, function folder) of every route of the users' API, in the order to call them."""
    routes = [
        (METHOD_ORDER.index(route.method.lower()), route.method.upper(), route.path, spec.code_uri.name)
        for spec in load_template(parameters={"CorsAllowOrigin": "*"}).functions.values()
        for route in spec.api_routes
        if route.api != INGRESS_API
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


def run_ingress() -> dict[str, Any]:
    """The FL ingress's sample (FLIP's FL server's metric), its key's hash configured, its queues moto's."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-2")
        for variable, name in (("FL_LOGS_QUEUE_URL", "fl-logs"), ("FL_METRICS_QUEUE_URL", "fl-metrics")):
            os.environ[variable] = sqs.create_queue(QueueName=name)["QueueUrl"]
        os.environ["FL_STATUS_QUEUE_URL"] = sqs.create_queue(
            QueueName="fl-status.fifo", Attributes={"FifoQueue": "true"}
        )["QueueUrl"]
        event = sample("fl_ingress")
        key = event["headers"]["X-Internal-Service-Key"]
        os.environ["INTERNAL_SERVICE_KEY_HASH"] = hashlib.sha256(key.encode()).hexdigest()
        response = invoke("fl_ingress", event)
        sent = sqs.get_queue_attributes(
            QueueUrl=os.environ["FL_METRICS_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
    return {"status": response["statusCode"], "enqueued": int(sent)}


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
    if which == "api":
        result = run_api()
    elif which == "fl_ingress":
        result = run_ingress()
    else:
        result = run_sqs(which)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
