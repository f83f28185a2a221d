"""FL message bodies, and Lambda SQS events as the event source mapping builds them, for the tests."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

REGION = "eu-west-2"
ACCOUNT = "123456789012"


def text_log_body(model_id: uuid.UUID, n: int, client: str = "Trust_1") -> dict[str, Any]:
    """An ``fl-logs`` body: free text ``line n`` from an FL client."""
    return {"model_id": str(model_id), "fl_client_name": client, "log": f"line {n}"}


def metric_body(model_id: uuid.UUID, round_: int, client: str = "Trust_1") -> dict[str, Any]:
    """An ``fl-metrics`` body: NVFLARE's loss of one 0-based round."""
    return {
        "model_id": str(model_id),
        "fl_client_name": client,
        "global_round": round_,
        "label": "LOSS_FUNCTION",
        "result": round_ / 10,
        "x_label": "Global Rounds",
    }


def queue_arn(queue: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"


def sqs_record(
    body: Mapping[str, Any] | str,
    *,
    queue: str = "fl-logs-dev",
    message_id: str | None = None,
    group_id: str | None = None,
    receive_count: int = 1,
    sent_at_ms: int | None = None,
) -> dict[str, Any]:
    """One record; a mapping body is sent as JSON, a string as it is (to test broken bodies)."""
    text = body if isinstance(body, str) else json.dumps(body)
    now = sent_at_ms if sent_at_ms is not None else int(time.time() * 1000)
    attributes = {
        "ApproximateReceiveCount": str(receive_count),
        "ApproximateFirstReceiveTimestamp": str(now + 5),
        "SenderId": "AROAEXAMPLEFLSERVER:fl-server",
        "SentTimestamp": str(now),
    }
    if queue.endswith(".fifo"):
        attributes["MessageGroupId"] = group_id or "invalid"
        attributes["MessageDeduplicationId"] = message_id or str(uuid.uuid4())
        attributes["SequenceNumber"] = str(18_849_496_460_467_696_128 + now)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"AQEB{uuid.uuid4().hex}",
        "body": text,
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode()).hexdigest(),  # noqa: S324 (SQS's own checksum)
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn(queue),
        "awsRegion": REGION,
    }


def sqs_event(*records: Mapping[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def bodies_event(
    bodies: Sequence[Mapping[str, Any] | str], *, queue: str = "fl-logs-dev", group_by_model: bool = True
) -> dict[str, Any]:
    """An event of one record per body; on a FIFO queue the group is the body's model id."""
    records = []
    for index, body in enumerate(bodies):
        group = None
        if queue.endswith(".fifo") and group_by_model and isinstance(body, Mapping):
            group = str(body.get("model_id", "invalid"))
        records.append(sqs_record(body, queue=queue, group_id=group, sent_at_ms=1_790_000_000_000 + index))
    return sqs_event(*records)


def failed_ids(response: Mapping[str, Any]) -> list[str]:
    """The ``itemIdentifier``s of a partial batch response, checking its exact shape."""
    assert set(response) == {"batchItemFailures"}, response
    items = response["batchItemFailures"]
    assert all(set(item) == {"itemIdentifier"} for item in items), items
    return [item["itemIdentifier"] for item in items]
