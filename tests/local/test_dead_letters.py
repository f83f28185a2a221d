"""``flip-models dlq``: the local stack's dead letters listed with their reasons, and redriven.

The queues are the template's, created on moto's SQS server (the local stack's default SQS) as
``flip-models dev`` creates them (names prefixed: moto's servers in one process share their queues);
the dead letters are sent as the consumers send them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from flip_local.cli import main
from flip_local.sqs import LocalQueue, create_queues, sqs_client
from flip_local.stack import STAGE, free_port
from flip_local.template import load_template
from flip_models.fl import dead_letters
from flip_models.fl.dead_letters import DeadLetter, send_dead_letter

MODEL = "64de7381-991f-53bc-bc3b-809cd62e0933"


@pytest.fixture
def stack_queues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, LocalQueue]]:
    """The template's queues on a moto server, and the state file a running stack would write."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    prefix = f"dlq-{secrets.token_hex(3)}-"
    queues = create_queues(
        sqs_client(endpoint), load_template(parameters={"Stage": STAGE}), name_prefix=prefix
    )
    state = {
        "sqs_endpoint": endpoint,
        "queues": {q.logical_id: {"name": q.name, "url": q.url, "fifo": q.fifo} for q in queues.values()},
    }
    (tmp_path / "stack.json").write_text(json.dumps(state))
    monkeypatch.setenv("FLIP_LOCAL_STATE", str(tmp_path / "stack.json"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", endpoint)  # the consumers' dead-letter client
    dead_letters.reset_client()
    yield queues
    dead_letters.reset_client()
    server.stop()


def reject(
    queues: dict[str, LocalQueue], dlq: str, body: str, reason: str, kind: str, group: str | None = None
) -> None:
    source = {"FlMetricsDeadLetterQueue": "FlMetricsQueue", "FlStatusDeadLetterQueue": "FlStatusQueue"}[dlq]
    letter = DeadLetter(f"orig-{secrets.token_hex(4)}", body, queues[source].name, reason, kind, group)
    send_dead_letter(letter, queues[dlq].url)


def heading(queues: dict[str, LocalQueue], kind: str, count: int) -> str:
    dlq, source = queues[f"Fl{kind}DeadLetterQueue"].name, queues[f"Fl{kind}Queue"].name
    return f"{dlq} (dead letters of {source}): {count} message(s)"


def bodies(queue: LocalQueue) -> list[str]:
    """Drain ``queue`` (on the moto server its URL names)."""
    client = sqs_client(queue.url.rsplit("/", 2)[0])
    found: list[str] = []
    while messages := client.receive_message(
        QueueUrl=queue.url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        found += [message["Body"] for message in messages]
    return found


def test_the_dead_letters_are_listed_with_their_reasons_and_stay(
    stack_queues: dict[str, LocalQueue], capsys: pytest.CaptureFixture[str]
) -> None:
    metric = json.dumps(
        {"model_id": MODEL, "fl_client_name": "Trust_9", "global_round": 1, "label": "L", "result": 1}
    )
    reject(
        stack_queues,
        "FlMetricsDeadLetterQueue",
        metric,
        "fl_client_name: FL client 'Trust_9' resolves to no trust",
        "unknown_fl_client",
    )
    reject(
        stack_queues,
        "FlStatusDeadLetterQueue",
        '{"status": "PENDING"}',
        "model_id: Field required",
        "invalid_message",
    )

    assert main(["dlq"]) == 0
    listing = capsys.readouterr().out

    assert heading(stack_queues, "Metrics", 1) in listing
    assert "why:  unknown_fl_client: fl_client_name: FL client 'Trust_9' resolves to no trust" in listing
    assert f"body: {metric}" in listing
    assert heading(stack_queues, "Status", 1) in listing
    assert "why:  invalid_message: model_id: Field required" in listing
    assert heading(stack_queues, "Logs", 0) in listing
    assert main(["dlq", "metrics"]) == 0  # listing again: nothing was taken away
    assert heading(stack_queues, "Metrics", 1) in capsys.readouterr().out


def test_redrive_moves_them_back_to_their_source_queue(
    stack_queues: dict[str, LocalQueue], capsys: pytest.CaptureFixture[str]
) -> None:
    statuses = [json.dumps({"model_id": MODEL, "status": status}) for status in ("PREPARED", "RUNNING")]
    for body in statuses:
        reject(
            stack_queues, "FlStatusDeadLetterQueue", body, "model_id: unknown model", "unknown_model", MODEL
        )
    reject(
        stack_queues, "FlMetricsDeadLetterQueue", '{"x": 1}', "model_id: Field required", "invalid_message"
    )

    assert main(["dlq", "status", "--redrive"]) == 0

    dlq, source = stack_queues["FlStatusDeadLetterQueue"].name, stack_queues["FlStatusQueue"].name
    assert capsys.readouterr().out.strip() == f"{dlq}: moved 2 message(s) back to {source}"
    assert bodies(stack_queues["FlStatusQueue"]) == statuses  # in order, in the model's group
    assert bodies(stack_queues["FlStatusDeadLetterQueue"]) == []
    assert bodies(stack_queues["FlMetricsDeadLetterQueue"]) == ['{"x": 1}']  # not chosen: left alone


def test_an_unknown_queue_or_no_stack_is_a_clear_error(
    stack_queues: dict[str, LocalQueue], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["dlq", "bogus"]) == 2
    assert "no dead-letter queue matches 'bogus'" in capsys.readouterr().err
    monkeypatch.setenv("FLIP_LOCAL_STATE", "/nonexistent/stack.json")
    assert main(["dlq"]) == 2
    assert "no local stack is running" in capsys.readouterr().err
