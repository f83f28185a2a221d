"""Getting messages into SQS: batches for logs and metrics, one at a time and in order for statuses.

Retries happen at two levels. Each API call is retried by botocore (the default client uses the
*standard* retry mode: throttling, 5xx answers and dropped or refused connections, with
exponential backoff and jitter). A ``SendMessageBatch`` call can also succeed while some of its
entries fail; those entries are sent again here, with a backoff of their own, unless SQS says the
entry itself is at fault (``SenderFault``), which no retry can change.

Statuses go to a FIFO queue, where a model's statuses must arrive in the order they were sent. A
batch whose first entry fails and second succeeds would reorder them, so statuses go one by one
and a failure stops the statuses behind it.

Failures are a queue's own: a call that SQS answers with an error (the queue missing, access to
it denied, throttled or failing for longer than the retries) stops the messages behind it in that
queue only; the other queues' messages are still sent. A call that gets no answer at all (endpoint
unreachable, timeouts, no credentials) fails every queue: they share the client and its endpoint.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Final, Optional
from urllib.parse import urlparse

from flip_fl_reporter.messages import Outgoing

#: SendMessageBatch takes at most 10 entries, and at most one message's size in all.
BATCH_ENTRIES: Final = 10
BATCH_BYTES: Final = 262_144
#: Rounds of re-sending a batch's failed entries, and their backoff (full jitter), in seconds.
ENTRY_ATTEMPTS: Final = 4
ENTRY_BACKOFF_BASE: Final = 0.2
ENTRY_BACKOFF_CAP: Final = 2.0
#: The default client's botocore settings: attempts per call (the first included; backoff of up to
#: 1, 2 and 4 s between them), and timeouts short enough that an unreachable endpoint costs the FL
#: loop seconds, not minutes.
CALL_ATTEMPTS: Final = 4
CONNECT_TIMEOUT: Final = 3
READ_TIMEOUT: Final = 10

_AWS_SQS_HOST = re.compile(r"^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def default_sqs_client(queue_url: str) -> Any:
    """An SQS client for ``queue_url`` with botocore's standard retry mode.

    An AWS queue URL gives the region; any other host (LocalStack, the local stack's moto server)
    becomes the endpoint, so the queue URLs are all an FL server needs. Credentials and, for a
    local endpoint, the region come from the usual AWS sources (environment, profile, role).
    """
    import boto3
    from botocore.config import Config

    parsed = urlparse(queue_url)
    host = parsed.hostname or ""
    aws = _AWS_SQS_HOST.match(host)
    return boto3.client(
        "sqs",
        region_name=aws.group(1) if aws else None,
        endpoint_url=None if aws else f"{parsed.scheme}://{parsed.netloc}",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": CALL_ATTEMPTS},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        ),
    )


@dataclass(frozen=True)
class Result:
    """What became of one message: ``sent``; or not, with the ``error``, and whether SQS refused the
    message itself (``refused``: sending it again cannot help)."""

    sent: bool
    error: Optional[str] = None
    refused: bool = False


SENT: Final = Result(sent=True)


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 300 else text[:299] + "…"


class Sender:
    """Sends :class:`Outgoing` messages to the queue URLs of their ``queue``."""

    def __init__(
        self,
        client: Any,
        queue_urls: Mapping[str, str],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.queue_urls = dict(queue_urls)
        self.sleep = sleep
        #: The queues (``logs``, ``metrics``, ``status``) to which a call failed in the last
        #: :meth:`send` after botocore's retries (queue missing, access denied, throttled for too
        #: long; all of them when SQS could not be reached), as opposed to single messages refused.
        self.failed_queues: set[str] = set()

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        """One :class:`Result` per message, in order. Never raises.

        Once a call to a queue has failed after botocore's retries, the messages behind it in that
        queue are not tried: the queue is missing or refusing, and each further call would cost the
        FL loop as much again. The other queues' messages are sent all the same, unless SQS could
        not be reached at all.
        """
        self.failed_queues = set()
        results: list[Optional[Result]] = [None] * len(messages)
        for queue in ("logs", "metrics"):
            indexes = [i for i, message in enumerate(messages) if message.queue == queue]
            start = 0
            for chunk in _chunks([messages[i] for i in indexes]):
                if queue in self.failed_queues:
                    break
                for index, result in zip(indexes[start:], self._send_batch(queue, chunk)):
                    results[index] = result
                start += len(chunk)
        statuses = [i for i, message in enumerate(messages) if message.queue == "status"]
        for position, index in enumerate(statuses):
            if "status" in self.failed_queues:
                break
            result = self._send_status(messages[index])
            results[index] = result
            if not result.sent and not result.refused:
                for later in statuses[position + 1 :]:
                    results[later] = Result(False, "waits for the status before it (statuses go in order)")
                break
        not_tried = Result(False, "not tried: an earlier call to its queue failed")
        return [result if result is not None else not_tried for result in results]

    def _send_batch(self, queue: str, chunk: Sequence[Outgoing]) -> list[Result]:
        results: dict[int, Result] = {}
        waiting = list(range(len(chunk)))
        for attempt in range(ENTRY_ATTEMPTS):
            if attempt:
                self.sleep(random.uniform(0, min(ENTRY_BACKOFF_CAP, ENTRY_BACKOFF_BASE * 2**attempt)))  # noqa: S311
            try:
                response = self.client.send_message_batch(
                    QueueUrl=self.queue_urls[queue],
                    Entries=[{"Id": str(i), "MessageBody": chunk[i].body} for i in waiting],
                )
            except Exception as error:  # botocore already retried what it could
                self._failed(queue, error)
                for i in waiting:
                    results[i] = Result(False, describe(error))
                break
            for entry in response.get("Successful", []):
                results[int(entry["Id"])] = SENT
            retry = []
            for entry in response.get("Failed", []):
                index = int(entry["Id"])
                reason = f"{entry.get('Code', 'Failed')}: {entry.get('Message', '')}".strip()
                results[index] = Result(False, reason, refused=bool(entry.get("SenderFault")))
                if not entry.get("SenderFault"):
                    retry.append(index)
            waiting = retry
            if not waiting:
                break
        return [results.get(i, Result(False, "no answer from SQS")) for i in range(len(chunk))]

    def _send_status(self, message: Outgoing) -> Result:
        try:
            self.client.send_message(
                QueueUrl=self.queue_urls["status"],
                MessageBody=message.body,
                MessageGroupId=message.group_id,
                MessageDeduplicationId=message.event_id,
            )
        except Exception as error:
            refused = _refused(error)
            if not refused:
                self._failed("status", error)
            return Result(False, describe(error), refused=refused)
        return SENT

    def _failed(self, queue: str, error: BaseException) -> None:
        """A call to ``queue`` failed: SQS's answer concerns that queue; no answer concerns them all."""
        if isinstance(getattr(error, "response", None), Mapping):
            self.failed_queues.add(queue)
        else:
            self.failed_queues.update(self.queue_urls)


def _refused(error: BaseException) -> bool:
    """An SQS answer that blames the message itself (never a throttle, an outage or a config error)."""
    response = getattr(error, "response", None)
    if not isinstance(response, Mapping):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code.rsplit(".", 1)[-1] in {"InvalidMessageContents", "MessageTooLong", "InvalidParameterValue"}


def _chunks(messages: Sequence[Outgoing]) -> list[list[Outgoing]]:
    """Consecutive batches of at most :data:`BATCH_ENTRIES` messages and :data:`BATCH_BYTES` bytes."""
    chunks: list[list[Outgoing]] = []
    current: list[Outgoing] = []
    size = 0
    for message in messages:
        length = len(message.body.encode())
        if current and (len(current) == BATCH_ENTRIES or size + length > BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(message)
        size += length
    if current:
        chunks.append(current)
    return chunks
