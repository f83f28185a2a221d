"""The local stack's line per message: the worker passes on the outcomes the function logged, the
poller prints them, and what the worker prints is otherwise unchanged."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flip_local.runtime import FunctionWorker
from flip_local.sqs import LocalQueue, poll_once

#: A function shaped like the FL consumers: it logs the batch summary (INFO) with each message's
#: outcome, a warning, and reports the third message as failed. ``"fail"`` in a body raises.
FUNCTION = """
from aws_lambda_powertools import Logger

logger = Logger()


def lambda_handler(event, context):
    records = event["Records"]
    if any(record["body"] == "fail" for record in records):
        raise RuntimeError("the database is gone")
    ids = [record["messageId"] for record in records]
    logger.warning("a warning the worker prints")
    outcomes = {ids[0]: "applied", ids[1]: "dead-lettered: label: 1 to 64 characters"}
    if len(ids) > 2:
        outcomes[ids[2]] = "retry: database unavailable"
    logger.info("FL message batch processed", extra={"outcomes": outcomes})
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids[2:]]}
"""


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[FunctionWorker]:
    (tmp_path / "app.py").write_text(FUNCTION)
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "POWERTOOLS_SERVICE_NAME": "fake-fl",
        "POWERTOOLS_LOG_LEVEL": "WARNING",  # the local stack's default
    }
    function = FunctionWorker("FakeFlFunction", tmp_path, "app.lambda_handler", environment, timeout=30)
    yield function
    function.stop()


def event(*message_ids: str) -> dict[str, Any]:
    return {"Records": [{"messageId": message_id, "body": "{}"} for message_id in message_ids]}


def test_the_worker_returns_the_outcomes_and_prints_only_what_it_printed_before(
    worker: FunctionWorker, capfd: pytest.CaptureFixture[str]
) -> None:
    result, outcomes = worker.invoke_reporting(event("m1", "m2"))

    assert result == {"batchItemFailures": []}
    assert outcomes == {"m1": "applied", "m2": "dead-lettered: label: 1 to 64 characters"}
    printed = capfd.readouterr().out
    assert "a warning the worker prints" in printed
    assert "FL message batch processed" not in printed  # INFO, below the configured WARNING
    assert worker.invoke(event("m3", "m4")) == {"batchItemFailures": []}  # the plain call still works
    assert worker.invoke_reporting(event("m5", "m6"))[1] == {
        "m5": "applied",
        "m6": "dead-lettered: label: 1 to 64 characters",
    }  # each invocation's own, nothing carried over


def test_the_poller_reports_each_message_with_its_outcome(worker: FunctionWorker, aws: Any) -> None:
    url = aws.create_queue(QueueName="fl-fake")["QueueUrl"]
    queue = LocalQueue("FakeQueue", "fl-fake", url, "arn:aws:sqs:eu-west-2:123456789012:fl-fake", False)
    sent = [aws.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))["MessageId"] for n in range(3)]
    lines: dict[str, str] = {}

    received, deleted = poll_once(
        aws, queue, 10, worker.invoke_reporting, wait_seconds=0, report=lines.__setitem__
    )

    assert (received, deleted) == (3, 2)
    assert sorted(lines.values()) == [
        "applied",
        "dead-lettered: label: 1 to 64 characters",
        "retry: database unavailable",
    ]
    assert set(lines) == set(sent)
    counts = aws.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert counts == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "1",
    }  # retry


def test_a_function_error_is_a_retry_of_the_whole_batch(worker: FunctionWorker, aws: Any) -> None:
    url = aws.create_queue(QueueName="fl-fake-2")["QueueUrl"]
    queue = LocalQueue("FakeQueue", "fl-fake-2", url, "arn:aws:sqs:eu-west-2:123456789012:fl-fake-2", False)
    aws.send_message(QueueUrl=url, MessageBody="fail")
    lines: list[str] = []

    received, deleted = poll_once(
        aws, queue, 10, worker.invoke_reporting, wait_seconds=0, report=lambda _, line: lines.append(line)
    )

    assert (received, deleted) == (1, 0)
    assert lines == ["retry: the function failed (FakeFlFunction: RuntimeError: the database is gone)"]
