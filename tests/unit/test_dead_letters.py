"""Sending rejected FL messages to a dead-letter queue, against moto's SQS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from flip_models.errors import ConfigurationError
from flip_models.fl.dead_letters import DeadLetter, send_dead_letter

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def receive_one(aws: SQSClient, url: str) -> dict[str, Any]:
    response = aws.receive_message(
        QueueUrl=url,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
        MaxNumberOfMessages=10,
    )
    [message] = response["Messages"]
    return dict(message)


def letter(**fields: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "message_id": "5b1c3a9e-0c1d-4c55-9f0e-6a7f3f1a2b3c",
        "body": '{"model_id": "m", "log": "x"}',
        "source_queue": "fl-logs-prod",
        "reason": "model_id: Input should be a valid UUID",
        "kind": "invalid_message",
    }
    return DeadLetter(**(values | fields))


def test_the_body_is_kept_and_the_reason_travels_as_attributes(aws: SQSClient) -> None:
    url = aws.create_queue(QueueName="fl-logs-dlq")["QueueUrl"]

    message_id = send_dead_letter(letter(), url)

    message = receive_one(aws, url)
    assert message["MessageId"] == message_id
    assert message["Body"] == '{"model_id": "m", "log": "x"}'
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes == {
        "rejection_reason": "model_id: Input should be a valid UUID",
        "rejection_kind": "invalid_message",
        "source_queue": "fl-logs-prod",
        "original_message_id": "5b1c3a9e-0c1d-4c55-9f0e-6a7f3f1a2b3c",
    }


def test_a_fifo_dlq_gets_the_model_as_group_and_the_original_id_for_deduplication(aws: SQSClient) -> None:
    url = aws.create_queue(QueueName="fl-status-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    model_id = "0f6d1c5e-2f43-4a71-8d8e-6a7b5d4c3b2a"

    send_dead_letter(letter(group_id=model_id), url)
    send_dead_letter(letter(group_id=model_id), url)  # the same rejection sent twice is kept once

    message = receive_one(aws, url)
    assert message["Attributes"]["MessageGroupId"] == model_id
    assert message["Attributes"]["MessageDeduplicationId"] == "5b1c3a9e-0c1d-4c55-9f0e-6a7f3f1a2b3c"


def test_a_fifo_dead_letter_without_a_model_goes_to_the_invalid_group(aws: SQSClient) -> None:
    url = aws.create_queue(QueueName="fl-status-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]

    send_dead_letter(letter(group_id=None), url)

    assert receive_one(aws, url)["Attributes"]["MessageGroupId"] == "invalid"


def test_a_long_reason_is_cut_and_an_empty_body_is_still_sent(aws: SQSClient) -> None:
    url = aws.create_queue(QueueName="fl-logs-dlq")["QueueUrl"]

    send_dead_letter(letter(reason="details: " + "x" * 1000, body=""), url)

    message = receive_one(aws, url)
    reason = message["MessageAttributes"]["rejection_reason"]["StringValue"]
    assert len(reason) == 256
    assert reason.endswith("…")
    assert message["Body"] == "(empty body)"


def test_no_dead_letter_queue_configured_is_an_error_not_a_silent_drop(aws: SQSClient) -> None:
    with pytest.raises(ConfigurationError, match="DEAD_LETTER_QUEUE_URL"):
        send_dead_letter(letter(), None)


def test_a_missing_queue_raises_so_the_record_is_retried(aws: SQSClient) -> None:
    missing = "https://aws.eu-west-2.amazonaws.com/123456789012/no-such-dlq"

    with pytest.raises(Exception, match=r"NonExistentQueue|does not exist"):
        send_dead_letter(letter(), missing)
