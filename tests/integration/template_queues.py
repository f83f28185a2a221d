"""The FL queues as template.yaml defines them, created in LocalStack, and a Lambda-like poller.

Everything is derived from the template (queue attributes, FIFO, redrive target and
``maxReceiveCount``, batch size, which function consumes which queue and which DLQ it writes to),
except the visibility timeout, which the tests shorten explicitly to keep the suite fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from flip_local.sqs import REGION, LocalQueue, create_queues, lambda_sqs_event
from flip_local.template import Template, load_template, resolve
from flip_models.fl import dead_letters
from flip_models.store.settings import get_settings
from tests.lambda_support import lambda_context, load_function

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = [
    "REGION",
    "FLQueuePair",
    "PollResult",
    "create_queue_pair",
    "poll_once",
    "queue_definitions",
    "template",
]


@cache
def _loaded() -> Template:
    """template.yaml read by the local stack's reader (the one template reader of the project)."""
    return load_template()


def template() -> dict[str, Any]:
    """The template as plain data."""
    return _loaded().raw


def _resolve(value: Any) -> Any:
    """A parameter ``Ref`` becomes its default; literals stay."""
    return resolve(value, _loaded().parameters, {})


def _get_att_target(value: Any) -> str:
    assert isinstance(value, Mapping), value
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return str(value["Ref"])


@dataclass(frozen=True)
class QueueDefinition:
    """One SQS event source of the template: its queue, DLQ, consumer and batch size."""

    queue: str  # logical id of the source queue
    dead_letter_queue: str  # logical id of its DLQ (from the RedrivePolicy)
    max_receive_count: int
    function: str  # folder under functions/
    batch_size: int
    dead_letter_env: str  # logical id the function's DEAD_LETTER_QUEUE_URL refers to

    def properties(self, logical_id: str) -> dict[str, Any]:
        return dict(template()["Resources"][logical_id]["Properties"])

    @property
    def fifo(self) -> bool:
        return bool(self.properties(self.queue).get("FifoQueue", False))


def queue_definitions() -> dict[str, QueueDefinition]:
    """Function folder → its queue definition, for every ``SQS`` event in the template."""
    found: dict[str, QueueDefinition] = {}
    for resource in template()["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        for event in properties.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue = _get_att_target(event["Properties"]["Queue"])
            redrive = template()["Resources"][queue]["Properties"]["RedrivePolicy"]
            function = properties["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
            found[function] = QueueDefinition(
                queue=queue,
                dead_letter_queue=_get_att_target(redrive["deadLetterTargetArn"]),
                max_receive_count=int(_resolve(redrive["maxReceiveCount"])),
                function=function,
                batch_size=int(_resolve(event["Properties"]["BatchSize"])),
                dead_letter_env=_get_att_target(
                    properties["Environment"]["Variables"]["DEAD_LETTER_QUEUE_URL"]
                ),
            )
    return found


@dataclass
class FLQueuePair:
    """A source queue and its DLQ created in LocalStack from a template definition."""

    definition: QueueDefinition
    queue: LocalQueue
    dead_letter_queue: LocalQueue
    sqs: SQSClient
    endpoint: str
    visibility_timeout: int
    receive_counts: dict[str, int] = field(default_factory=dict)

    def send(
        self, body: Mapping[str, Any] | str, *, group_id: str | None = None, dedup_id: str | None = None
    ) -> str:
        text = body if isinstance(body, str) else json.dumps(body)
        if self.queue.fifo:
            assert group_id is not None, "a FIFO message needs a group id"
            assert dedup_id is not None, "a FIFO message needs a deduplication id"
            response = self.sqs.send_message(
                QueueUrl=self.queue.url,
                MessageBody=text,
                MessageGroupId=group_id,
                MessageDeduplicationId=dedup_id,
            )
        else:
            response = self.sqs.send_message(QueueUrl=self.queue.url, MessageBody=text)
        return response["MessageId"]

    def dead_letters(self) -> list[dict[str, Any]]:
        """Drain the DLQ: each message's body, SQS message id and our attributes (flattened)."""
        found: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.dead_letter_queue.url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                VisibilityTimeout=30,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                letter = {
                    name: v.get("StringValue") for name, v in message.get("MessageAttributes", {}).items()
                }
                letter |= {"body": message["Body"], "message_id": message["MessageId"]}
                letter["group_id"] = message.get("Attributes", {}).get("MessageGroupId")
                found.append(letter)

    def visible_and_in_flight(self) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


def create_queue_pair(
    sqs: SQSClient, endpoint: str, definition: QueueDefinition, prefix: str, visibility_timeout: int
) -> FLQueuePair:
    """The template's queues created as the local stack creates them (names prefixed, the source
    queue's visibility timeout overridden); this definition's queue and DLQ paired."""
    assert definition.dead_letter_env == definition.dead_letter_queue, (
        "the function must write to its own DLQ"
    )
    wanted = {definition.queue, definition.dead_letter_queue}
    created = create_queues(
        sqs,
        _loaded(),
        overrides={definition.queue: {"VisibilityTimeout": str(visibility_timeout)}},
        name_prefix=f"{prefix}-",
        only=wanted,
    )
    return FLQueuePair(
        definition,
        created[definition.queue],
        created[definition.dead_letter_queue],
        sqs,
        endpoint,
        visibility_timeout,
    )


# --- the poller: what Lambda's event source mapping does --------------------------------------------


@dataclass(frozen=True)
class PollResult:
    received: list[str]
    failed: list[str]
    bodies: list[str]


@contextmanager
def function_environment(pair: FLQueuePair) -> Iterator[None]:
    """The consuming function's environment while it runs: its own DLQ (from the template) as
    ``DEAD_LETTER_QUEUE_URL``, and its SQS client pointed at LocalStack."""
    wanted = {"DEAD_LETTER_QUEUE_URL": pair.dead_letter_queue.url, "AWS_ENDPOINT_URL_SQS": pair.endpoint}
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    get_settings.cache_clear()
    dead_letters.reset_client()
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        dead_letters.reset_client()


def poll_once(
    pair: FLQueuePair,
    *,
    wait_seconds: int = 1,
    delete: bool = True,
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None,
) -> PollResult:
    """Receive up to the template's batch size, invoke the function in-process, delete what succeeded.

    ``delete=False`` plays a poller that crashed after the invocation: nothing is deleted.
    """
    messages: list[Any] = []
    while len(messages) < pair.definition.batch_size:  # Lambda gathers a batch from several receives
        received = pair.sqs.receive_message(
            QueueUrl=pair.queue.url,
            MaxNumberOfMessages=min(pair.definition.batch_size - len(messages), 10),
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=0 if messages else wait_seconds,
        ).get("Messages", [])
        if not received:
            break
        messages.extend(received)
    if not messages:
        return PollResult([], [], [])
    event = lambda_sqs_event(messages, pair.queue)
    for message in messages:
        pair.receive_counts[message["MessageId"]] = int(message["Attributes"]["ApproximateReceiveCount"])
    invoke = handler or load_function(pair.definition.function).lambda_handler
    with function_environment(pair):
        response = invoke(event, lambda_context())
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    done = [m for m in messages if m["MessageId"] not in failed]
    if delete and done:
        entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)]
        for start in range(0, len(entries), 10):
            result = pair.sqs.delete_message_batch(
                QueueUrl=pair.queue.url, Entries=entries[start : start + 10]
            )
            assert not result.get("Failed"), result
    return PollResult([m["MessageId"] for m in messages], failed, [m["Body"] for m in messages])
