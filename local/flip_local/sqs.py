"""Local SQS: the template's queues created on an endpoint (moto's server or LocalStack), and a
poller per SQS event source that feeds its function like Lambda's event source mapping does.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flip_local.runtime import FunctionWorker, InvocationError
from flip_local.template import QueueSpec, Template

REGION = "eu-west-2"

# Properties of AWS::SQS::Queue that map 1:1 to CreateQueue attributes.
_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


@dataclass(frozen=True)
class LocalQueue:
    logical_id: str
    name: str
    url: str
    arn: str
    fifo: bool


def sqs_client(endpoint_url: str) -> Any:
    import boto3

    return boto3.client(
        "sqs",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - local endpoint, no real credentials
    )


def create_queues(
    client: Any,
    template: Template,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    name_prefix: str = "",
    only: Collection[str] | None = None,
) -> dict[str, LocalQueue]:
    """Create every ``AWS::SQS::Queue`` of the template (or those in ``only``), dead-letter queues
    first.

    ``overrides[logical_id]`` replaces attributes (tests shorten visibility timeouts this way).
    """
    created: dict[str, LocalQueue] = {}
    pending = {key: spec for key, spec in template.queues.items() if only is None or key in only}
    while pending:
        progressed = False
        for logical_id, spec in list(pending.items()):
            target = dead_letter_target(spec)
            if target is not None and target not in created:
                continue
            created[logical_id] = _create(client, template, spec, created, overrides or {}, name_prefix)
            del pending[logical_id]
            progressed = True
        if not progressed:
            raise ValueError(f"queues with unresolvable dead-letter targets: {sorted(pending)}")
    return created


def dead_letter_target(spec: QueueSpec) -> str | None:
    """The logical id of the queue's dead-letter queue (its ``RedrivePolicy``), or None."""
    redrive = spec.properties.get("RedrivePolicy")
    if not redrive:
        return None
    target = redrive.get("deadLetterTargetArn")
    return target["Fn::GetAtt"][0] if isinstance(target, Mapping) and "Fn::GetAtt" in target else None


def _create(
    client: Any,
    template: Template,
    spec: QueueSpec,
    created: Mapping[str, LocalQueue],
    overrides: Mapping[str, Mapping[str, str]],
    name_prefix: str,
) -> LocalQueue:
    resolve = template.resolver(
        {q.logical_id: {"Ref": q.url, "Arn": q.arn, "QueueName": q.name} for q in created.values()}
    )
    properties = resolve(dict(spec.properties))
    name = name_prefix + str(properties.get("QueueName") or spec.logical_id)
    if spec.fifo and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {key: _attribute(properties[key]) for key in _ATTRIBUTES if key in properties}
    if properties.get("RedrivePolicy"):
        attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
    attributes.update(overrides.get(spec.logical_id, {}))
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return LocalQueue(spec.logical_id, name, url, arn, spec.fifo)


def _attribute(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def lambda_sqs_event(messages: Sequence[Mapping[str, Any]], queue: LocalQueue) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping builds from received messages."""
    records = []
    for message in messages:
        attributes = dict(message.get("Attributes", {}))
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue.arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def poll_once(
    client: Any,
    queue: LocalQueue,
    batch_size: int,
    invoke: Callable[[dict[str, Any]], tuple[Any, Mapping[str, str]]],
    wait_seconds: int = 1,
    report: Callable[[str, str], None] | None = None,
) -> tuple[int, int]:
    """Receive one batch, invoke, delete what succeeded; returns (received, deleted).

    A function error leaves the whole batch to come back after the visibility timeout; a partial
    batch response leaves only the reported ``batchItemFailures``. ``report`` gets each message's
    id and outcome: as the function logged it (``applied``, ``duplicate``, ``dead-lettered:
    <reason>``, ``retry: <cause>``), else what the poller saw.
    """
    response = client.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=max(1, min(batch_size, 10)),
        WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages = response.get("Messages", [])
    if not messages:
        return 0, 0
    try:
        result, outcomes = invoke(lambda_sqs_event(messages, queue))
    except InvocationError as error:
        cause = str(error).splitlines()[0]
        for message in messages:
            if report is not None:
                report(message["MessageId"], f"retry: the function failed ({cause})")
        return len(messages), 0
    failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
    done = [m for m in messages if m["MessageId"] not in failed]
    for message in messages:
        if report is not None:
            failed_here = message["MessageId"] in failed
            seen = "retry: reported as failed" if failed_here else "deleted (no outcome logged)"
            report(message["MessageId"], outcomes.get(message["MessageId"], seen))
    for start in range(0, len(done), 10):
        chunk = done[start : start + 10]
        client.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
        )
    return len(messages), len(done)


class Poller(threading.Thread):
    """Feeds one queue to one function until stopped."""

    def __init__(
        self,
        client: Any,
        queue: LocalQueue,
        batch_size: int,
        worker: FunctionWorker,
        log: Callable[[str], None],
    ) -> None:
        super().__init__(name=f"poller:{queue.name}", daemon=True)
        self.client, self.queue, self.batch_size, self.worker, self.log = (
            client,
            queue,
            batch_size,
            worker,
            log,
        )
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                received, deleted = poll_once(
                    self.client, self.queue, self.batch_size, self._invoke, report=self._report
                )
            except Exception as error:  # keep polling through a passing endpoint hiccup
                self.log(f"{self.queue.name}: poll failed: {error}")
                time.sleep(1)
                continue
            if received:
                self.log(
                    f"{self.queue.name}: {received} message(s) → {self.worker.name}: "
                    f"{deleted} done, {received - deleted} left for retry"
                )

    def _report(self, message_id: str, outcome: str) -> None:
        self.log(f"  {self.queue.name} message {message_id}: {outcome}")

    def _invoke(self, event: dict[str, Any]) -> tuple[Any, dict[str, str]]:
        try:
            return self.worker.invoke_reporting(event)
        except InvocationError as error:
            self.log(f"  {error}")
            raise

    def stop(self) -> None:
        """Stop polling; wait for the batch in hand (its long poll is one second) to settle."""
        self._stop_event.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(10)  # then the worker is stopped all the same


def send_bodies(client: Any, queue: LocalQueue, bodies: list[str]) -> int:
    """Send message bodies to a queue (FIFO: group = the body's model id, dedup id = its event id)."""
    sent = 0
    for index, body in enumerate(bodies):
        arguments: dict[str, Any] = {"QueueUrl": queue.url, "MessageBody": body}
        if queue.fifo:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = {}
            parsed = parsed if isinstance(parsed, dict) else {}
            arguments["MessageGroupId"] = str(parsed.get("model_id") or "unknown")
            arguments["MessageDeduplicationId"] = str(
                parsed.get("event_id")
                or hashlib.sha256(f"{time.time_ns()}:{index}:{body}".encode()).hexdigest()
            )
        client.send_message(**arguments)
        sent += 1
    return sent
