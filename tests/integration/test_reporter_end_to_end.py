"""The FL servers' reporter (clients/python) against the local stack on LocalStack, end to end.

The stack is ``flip-models dev``'s (the template's queues in LocalStack, a poller and worker per FL
function, the test database with the demo data). The reporter is given only the queue URLs, as an
FL server is, reached through a TCP proxy that the test cuts to play an SQS endpoint that is down.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flip_fl_reporter import MAX_LOG_CHARACTERS, FLIPReporter
from flip_fl_reporter.sending import default_sqs_client
from flip_local.cli import main as flip_models
from flip_local.demo import demo_id
from flip_local.sqs import sqs_client
from flip_local.stack import DevStack, free_port
from flip_models.enums import ModelStatus
from flip_models.store.tables import FLKitSlot, FLLogs, FLMetrics, Model
from tests.reliability.proxy import CuttableProxy

RUNNING = demo_id("model:running")
LABEL = "REPORTER_LOSS"
#: A line the stack prints per message: ``  <queue> message <id>: <outcome>``.
MESSAGE_LINE = re.compile(r"^  (?P<queue>\S+) message (?P<id>\S+): (?P<outcome>.*)$")


@dataclass
class Stack:
    """A running local stack (its state as ``flip-models dev`` writes it, and the lines it printed),
    and the proxy the FL server reaches its SQS endpoint through."""

    state: dict[str, Any]
    lines: list[str]
    proxy: CuttableProxy

    def url(self, variable: str) -> str:
        """The queue URL ``flip-models dev`` gives FL servers, reached through the proxy."""
        real: str = self.state["fl_queue_urls"][variable]
        return real.replace(real.split("/")[2], f"127.0.0.1:{self.proxy.port}", 1)

    def reporter(self, **options: Any) -> FLIPReporter:
        return FLIPReporter(
            logs_queue_url=self.url("FLIP_FL_LOGS_QUEUE_URL"),
            metrics_queue_url=self.url("FLIP_FL_METRICS_QUEUE_URL"),
            status_queue_url=self.url("FLIP_FL_STATUS_QUEUE_URL"),
            **options,
        )

    def outcomes(self, queue: str) -> list[str]:
        """The outcome the stack printed for each message of ``queue`` (fl-logs, …), in order."""
        found = (MESSAGE_LINE.match(line) for line in list(self.lines))
        return [match["outcome"] for match in found if match and queue in match["queue"]]


@pytest.fixture
def stack(
    database_url: str,
    engine: Engine,
    localstack_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    monkeypatch.setenv("FLIP_LOCAL_STATE", str(tmp_path / "stack.json"))
    lines: list[str] = []
    dev = DevStack(
        http_port=free_port(),
        ingress_port=free_port(),
        database_url=database_url,
        endpoint_url=localstack_endpoint,
        queue_prefix=f"rep-{os.getpid()}-{secrets.token_hex(3)}-",
        log=lines.append,
    )
    host, port = localstack_endpoint.split("//")[1].split(":")
    proxy = CuttableProxy((host, int(port)))
    try:
        yield Stack(dev.start(), lines, proxy)
    finally:
        proxy.close()
        dev.stop()
        client = sqs_client(localstack_endpoint)
        for queue in dev.queues.values():
            client.delete_queue(QueueUrl=queue.url)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"not in time: {what}")


def metrics(session: Session, round_: int) -> list[FLMetrics]:
    session.expire_all()
    return list(
        session.scalars(select(FLMetrics).where(FLMetrics.label == LABEL, FLMetrics.global_round == round_))
    )


def logs(session: Session, event_type: str, text_start: str) -> list[FLLogs] | None:
    """The model's ``event_type`` row of round 7 and Trust_2's text starting ``text_start``, once both
    arrived (the demo's own traceback is KCH's, Trust_3)."""
    session.expire_all()
    [event] = session.scalars(
        select(FLLogs).where(
            FLLogs.model_id == RUNNING, FLLogs.event_type == event_type, FLLogs.global_round == 7
        )
    ).all() or [None]
    [text] = session.scalars(
        select(FLLogs).where(
            FLLogs.model_id == RUNNING, FLLogs.log.startswith(text_start), FLLogs.fl_client_name == "Trust_2"
        )
    ).all() or [None]
    return [event, text] if event is not None and text is not None else None


def test_an_fl_server_reports_through_the_local_stack(stack: Stack, session: Session, tmp_path: Path) -> None:
    client = default_sqs_client(stack.url("FLIP_FL_LOGS_QUEUE_URL"))
    calls: list[str] = []
    client.meta.events.register("before-call.sqs.*", lambda model, **_: calls.append(model.name))
    spool = tmp_path / "spool"
    reporter = stack.reporter(sqs_client=client, run_id="nvflare-job-7", spool_dir=spool)

    # Sent, and sent again (a retried call): applied once.
    assert reporter.send_metrics(RUNNING, "Trust_1", LABEL, 0.5, 7, x_label="Global Rounds") is True
    assert reporter.send_metrics(RUNNING, "Trust_1", LABEL, 0.5, 7, x_label="Global Rounds") is True
    assert reporter.send_event(RUNNING, "ROUND_STARTED", 7, {"clients": 3}) is True
    traceback = "Traceback (most recent call last):\n" + "  File 'train.py', line 42, in step\n" * 20_000
    assert reporter.send_handled_exception(RUNNING, "Trust_2", traceback) is True

    # An invalid call never leaves the process.
    before = len(calls)
    assert reporter.send_metrics(RUNNING, "Trust_1", "", 0.5, 7) is False
    assert reporter.send_event(RUNNING, "QUEUE_POSITION", 1) is False
    assert len(calls) == before

    [metric] = wait_for(lambda: metrics(session, 7), "the round 7 metric")
    assert (metric.result, metric.x_label) == (0.5, "Global Rounds")
    wait_for(
        lambda: sorted(stack.outcomes("fl-metrics")) == ["applied", "duplicate"], "a line per metric message"
    )
    assert metrics(session, 7) == [metric]  # the retried call was applied once
    [event, error] = wait_for(
        lambda: logs(session, "ROUND_STARTED", "Traceback"), "the event and the traceback"
    )
    assert (event.global_round, event.details, event.fl_client_name) == (7, {"clients": 3}, None)
    assert (error.success, error.fl_client_name) == (False, "Trust_2")
    assert error.log is not None
    assert len(error.log) == MAX_LOG_CHARACTERS  # cut as the service stores it
    assert error.log.startswith(traceback[:1000])
    assert error.log.endswith(" more characters]")
    assert sorted(stack.outcomes("fl-logs")) == ["applied", "applied"]

    # The SQS endpoint goes down: the messages wait in the spool, and arrive once it is back.
    stack.proxy.cut()
    assert reporter.send_metrics(RUNNING, "Trust_3", LABEL, 0.25, 8) is False
    assert reporter.update_status(RUNNING, "RESULTS_UPLOADED") is False
    assert len(list(spool.glob("*.json"))) == 2
    stack.proxy.restore()
    assert reporter.flush() == 0
    wait_for(lambda: metrics(session, 8), "the round 8 metric, sent from the spool")

    def uploaded() -> bool:
        session.expire_all()
        return session.scalar(select(Model.status).where(Model.id == RUNNING)) == ModelStatus.RESULTS_UPLOADED

    wait_for(uploaded, "the status sent from the spool")


def test_a_dead_letter_is_read_fixed_and_redriven(
    stack: Stack, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    reporter = stack.reporter(run_id="flower-run-3")  # the default client, from the URLs alone
    # A valid body from an FL client whose kit slot is not registered: the consumer rejects it.
    assert reporter.send_metrics(RUNNING, "Trust_9", LABEL, 0.75, 9) is True
    reason = "fl_client_name: FL client 'Trust_9' resolves to no trust"
    wait_for(lambda: stack.outcomes("fl-metrics") == [f"dead-lettered: {reason}"], "the dead-letter line")

    assert flip_models(["dlq", "metrics"]) == 0
    listing = capsys.readouterr().out
    assert f"why:  unknown_fl_client: {reason}" in listing
    assert "Trust_9" in listing

    # The operator registers the slot, then moves the message back: now it is applied.
    session.add(FLKitSlot(slot_name="Trust_9", slot_number=9, assigned_to_trust_id=demo_id("trust:GSTT")))
    session.commit()
    assert flip_models(["dlq", "metrics", "--redrive"]) == 0
    assert "moved 1 message(s) back to" in capsys.readouterr().out
    [metric] = wait_for(lambda: metrics(session, 9), "the redriven metric")
    assert metric.trust == demo_id("trust:GSTT")
    wait_for(lambda: stack.outcomes("fl-metrics")[-1] == "applied", "the applied line")
