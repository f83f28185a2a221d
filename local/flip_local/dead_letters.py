"""``flip-models dlq``: the local stack's dead letters, with why each was rejected, and their redrive.

Each FL queue of the template has a dead-letter queue (its ``RedrivePolicy``). A message lands there
in one of two ways: the consumer rejected it (a broken rule, an unknown model or FL client), and
sent it with the message attributes ``rejection_reason``, ``rejection_kind`` and
``original_message_id``; or SQS moved it after ``maxReceiveCount`` failed receives, without them.

Reading a queue hides its messages for a moment; the listing makes them visible again at once, so
it changes nothing. ``--redrive`` sends each body back to its source queue (FIFO: the same group,
a deduplication id of its own) and deletes it from the dead-letter queue only once that succeeded:
a message is never lost, at worst sent twice, which the consumers apply once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flip_local.sqs import LocalQueue, dead_letter_target, sqs_client
from flip_local.stack import STAGE, running_state
from flip_local.template import Template, load_template

#: How long a listing hides the messages it reads (they are made visible again right after).
READ_VISIBILITY_SECONDS = 30
#: A body is shown up to this many characters.
BODY_EXCERPT = 160


@dataclass(frozen=True)
class DeadLetterQueue:
    """A dead-letter queue of the stack and the queue whose rejected messages it keeps."""

    queue: LocalQueue
    source: LocalQueue


@dataclass(frozen=True)
class DeadLetter:
    """One message of a dead-letter queue; ``reason`` is None when SQS moved it there itself."""

    message_id: str
    receipt_handle: str
    body: str
    reason: str | None
    kind: str | None
    original_message_id: str | None
    group_id: str | None

    def describe(self) -> str:
        why = f"{self.kind}: {self.reason}" if self.reason else "moved by SQS after repeated failed receives"
        body = self.body if len(self.body) <= BODY_EXCERPT else self.body[: BODY_EXCERPT - 1] + "…"
        return (
            f"  {self.message_id}  (original message {self.original_message_id or 'unknown'})\n"
            f"    why:  {why}\n"
            f"    body: {body}"
        )


def dead_letter_queues(template: Template, state: dict[str, Any]) -> list[DeadLetterQueue]:
    """The stack's dead-letter queues, each with its source queue, from the template's redrive policies."""

    def local(logical_id: str) -> LocalQueue:
        entry = state["queues"][logical_id]
        return LocalQueue(logical_id, entry["name"], entry["url"], "", bool(entry["fifo"]))

    found = []
    for spec in template.queues.values():
        target = dead_letter_target(spec)
        if target is not None and target in state["queues"] and spec.logical_id in state["queues"]:
            found.append(DeadLetterQueue(local(target), local(spec.logical_id)))
    return sorted(found, key=lambda pair: pair.queue.name)


def choose(queues: list[DeadLetterQueue], wanted: str | None) -> list[DeadLetterQueue]:
    """All of them, or those ``wanted`` names: ``logs``, ``metrics``, ``status``, or a queue's name or
    logical id (the dead-letter queue's or its source's). Raises ``ValueError`` on no match."""
    if not wanted:
        return queues
    needle = wanted.lower()
    chosen = [
        pair
        for pair in queues
        if needle in {pair.queue.logical_id.lower(), pair.source.logical_id.lower()}
        or needle in pair.queue.name.lower()
    ]
    if not chosen:
        names = ", ".join(pair.queue.name for pair in queues)
        raise ValueError(f"no dead-letter queue matches {wanted!r} (the stack's: {names})")
    return chosen


def read(client: Any, queue: LocalQueue) -> list[DeadLetter]:
    """Every message SQS hands out now, in the order received; they are hidden while reading only.

    A FIFO queue hands out no more of a group while some of it is in flight: a listing shows up to
    ten per group (a redrive, which deletes as it goes, reaches them all).
    """
    letters = list(_receive_all(client, queue))
    _make_visible(client, queue, [letter.receipt_handle for letter in letters])
    return letters


def _receive_all(client: Any, queue: LocalQueue) -> Iterator[DeadLetter]:
    seen: set[str] = set()
    while True:
        messages = client.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            VisibilityTimeout=READ_VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [message for message in messages if message["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            attributes = {
                name: value.get("StringValue") for name, value in message.get("MessageAttributes", {}).items()
            }
            yield DeadLetter(
                message_id=message["MessageId"],
                receipt_handle=message["ReceiptHandle"],
                body=message["Body"],
                reason=attributes.get("rejection_reason"),
                kind=attributes.get("rejection_kind"),
                original_message_id=attributes.get("original_message_id"),
                group_id=message.get("Attributes", {}).get("MessageGroupId"),
            )


def _make_visible(client: Any, queue: LocalQueue, receipt_handles: list[str]) -> None:
    for start in range(0, len(receipt_handles), 10):
        client.change_message_visibility_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for index, handle in enumerate(receipt_handles[start : start + 10])
            ],
        )


def redrive(client: Any, pair: DeadLetterQueue) -> int:
    """Move every dead letter of ``pair`` back to its source queue; returns how many moved."""
    moved = 0
    while True:
        letters = list(_receive_all(client, pair.queue))
        if not letters:
            return moved
        for letter in letters:
            arguments: dict[str, Any] = {"QueueUrl": pair.source.url, "MessageBody": letter.body}
            if pair.source.fifo:
                arguments["MessageGroupId"] = letter.group_id or "invalid"
                arguments["MessageDeduplicationId"] = f"redrive-{letter.message_id}"
            client.send_message(**arguments)
            client.delete_message(QueueUrl=pair.queue.url, ReceiptHandle=letter.receipt_handle)
            moved += 1


def main(wanted: str | None, move_back: bool) -> int:
    """The command: list (or ``move_back``) the running stack's dead letters; the exit status."""
    state = running_state()
    if state is None:
        return 2
    try:
        chosen = choose(dead_letter_queues(load_template(parameters={"Stage": STAGE}), state), wanted)
    except ValueError as error:
        print(f"flip-models dlq: {error}", file=sys.stderr)
        return 2
    client = sqs_client(state["sqs_endpoint"])
    for pair in chosen:
        if move_back:
            moved = redrive(client, pair)
            print(f"{pair.queue.name}: moved {moved} message(s) back to {pair.source.name}")
            continue
        letters = read(client, pair.queue)
        print(f"{pair.queue.name} (dead letters of {pair.source.name}): {len(letters)} message(s)")
        for letter in letters:
            print(letter.describe())
    return 0
