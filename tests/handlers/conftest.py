"""Fixtures of the SQS handler tests: moto dead-letter queues wired into the handlers' settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from flip_models.store.settings import get_settings
from tests.lambda_support import lambda_context, load_function

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class DeadLetterQueue:
    """A moto queue standing in for a function's DLQ; ``letters()`` drains it."""

    url: str
    client: SQSClient

    def letters(self) -> list[dict[str, Any]]:
        """Every message now in the queue: body, group, dedup id and our attributes, flattened."""
        found: list[dict[str, Any]] = []
        while True:
            response = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                VisibilityTimeout=60,
            )
            messages = response.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                letter: dict[str, Any] = {
                    name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()
                }
                letter["body"] = message["Body"]
                letter["group_id"] = message.get("Attributes", {}).get("MessageGroupId")
                letter["deduplication_id"] = message.get("Attributes", {}).get("MessageDeduplicationId")
                found.append(letter)


@pytest.fixture
def dead_letter_queue(
    aws: SQSClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], DeadLetterQueue]]:
    """``dead_letter_queue("fl-logs-dlq-test")`` creates the DLQ and makes it the handlers' DLQ."""

    def create(name: str) -> DeadLetterQueue:
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        url = aws.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", url)
        get_settings.cache_clear()
        return DeadLetterQueue(url, aws)

    yield create
    get_settings.cache_clear()


@pytest.fixture
def logs_dlq(dead_letter_queue: Callable[[str], DeadLetterQueue]) -> DeadLetterQueue:
    return dead_letter_queue("fl-logs-dlq-test")


@pytest.fixture
def metrics_dlq(dead_letter_queue: Callable[[str], DeadLetterQueue]) -> DeadLetterQueue:
    return dead_letter_queue("fl-metrics-dlq-test")


@pytest.fixture
def status_dlq(dead_letter_queue: Callable[[str], DeadLetterQueue]) -> DeadLetterQueue:
    return dead_letter_queue("fl-status-dlq-test.fifo")


def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
    """Call ``functions/<function>/app.py`` like Lambda does."""
    response: dict[str, Any] = load_function(function).lambda_handler(event, lambda_context())
    return response


@pytest.fixture(params=["named", "unnamed"])
def statement_strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The FL batch statement both ways: named (direct to PostgreSQL, the default) and unnamed
    (``DB_BEHIND_POOLER=true``); a test that uses it must have the same outcome either way."""
    from flip_models.store import db

    if request.param == "unnamed":
        monkeypatch.setenv("DB_BEHIND_POOLER", "true")
    else:
        monkeypatch.delenv("DB_BEHIND_POOLER", raising=False)
    db.reset_engine()
    yield request.param
    monkeypatch.delenv("DB_BEHIND_POOLER", raising=False)
    db.reset_engine()


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch, engine: Any) -> None:
    """Point the handlers at a port where no database listens (connection refused at once)."""
    from flip_models.store import db

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")
    db.reset_engine()
