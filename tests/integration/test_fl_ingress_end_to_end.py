"""FLIP's FL server, unchanged, against the local stack's FL ingress (SPEC §10), end to end.

The stack is ``flip-models dev``'s (the template's queues in LocalStack, the FL consumers polling
them, the test database with the demo data, the ingress on a port of its own). The sender is
``flip_sender.py`` on Python 3.9 with ``requests``: flip-utils' HTTP calls as ``FLIPStandardProd``
makes them, given only ``FLIP_API_INTERNAL_URL`` (the stack's ingress URL + ``/api``) and
``INTERNAL_SERVICE_KEY``. Every call of a job's worth lands once; a reused idempotency key reaches
the DLQ with its reason.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flip_local.demo import demo_id
from flip_local.sqs import sqs_client
from flip_local.stack import DevStack, free_port
from flip_models.enums import ModelStatus
from flip_models.store.tables import FLLogs, FLMetrics, Model
from tests.lambda_support import ROOT

RUNNING = demo_id("model:running")
KEY = "an-fl-servers-key-" + "x" * 24
#: ``ingress <METHOD> <path> → <status> (<ms> ms): <fate>``, the stack's line per ingress request.
INGRESS_LINE = re.compile(
    r"^ingress (?P<method>\S+) (?P<path>\S+) → (?P<status>\d+) \(\d+ ms\)(?:: (?P<fate>.*))?$"
)
MESSAGE_LINE = re.compile(r"^  (?P<queue>\S+) message (?P<id>\S+): (?P<outcome>.*)$")
SENDER = Path(__file__).with_name("flip_sender.py")
SENDER_VENV = ROOT / ".tools" / "flip-sender"


def sender_python() -> Path:
    """Python 3.9 with ``requests`` (as in FL server images), in a venv of its own made on first use."""
    python = SENDER_VENV / "bin" / "python"
    if not python.exists():
        found = sorted(Path.home().glob(".pyenv/versions/3.9*/bin/python"))
        uv = ROOT / ".tools" / "uv" / "bin" / "uv"
        assert found, "Python 3.9 (pyenv) is needed for FLIP's sender"
        assert uv.exists(), "uv (make test installs it) is needed to make the sender's venv"
        subprocess.run([str(uv), "venv", "--quiet", "--python", str(found[-1]), str(SENDER_VENV)], check=True)
        subprocess.run(
            [str(uv), "pip", "install", "--quiet", "--python", str(python), "requests==2.32.4"], check=True
        )
    return python


@dataclass
class Stack:
    state: dict[str, Any]
    lines: list[str]

    @property
    def internal_url(self) -> str:
        return f"{self.state['ingress_url']}/api"

    def send(
        self, calls: list[dict[str, Any]], *, key: str = KEY, base: str | None = None
    ) -> list[dict[str, Any]]:
        """FLIP's sender's answers to ``calls``, made from Python 3.9 with requests."""
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "FLIP_API_INTERNAL_URL": base or self.internal_url,
            "INTERNAL_SERVICE_KEY": key,
        }
        result = subprocess.run(
            [str(sender_python()), str(SENDER)],
            input="".join(json.dumps(call) + "\n" for call in calls),
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=True,
        )
        return [json.loads(line) for line in result.stdout.splitlines()]

    def ingress_lines(self) -> list[re.Match[str]]:
        return [match for line in list(self.lines) if (match := INGRESS_LINE.match(line))]

    def ingress_lines_of(self, requests: int) -> list[re.Match[str]]:
        """The ingress's lines once there is one per request: a line is printed after its answer is
        sent, so a sender may read its answer before the stack's terminal has the line."""
        lines: list[re.Match[str]] = wait_for(
            lambda: found if len(found := self.ingress_lines()) >= requests else None,
            f"{requests} ingress lines",
        )
        return lines

    def outcomes(self) -> dict[str, str]:
        """The consumers' outcome per SQS message id."""
        return {m["id"]: m["outcome"] for line in list(self.lines) if (m := MESSAGE_LINE.match(line))}


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
        internal_service_key=KEY,
        database_url=database_url,
        endpoint_url=localstack_endpoint,
        queue_prefix=f"ing-{os.getpid()}-{secrets.token_hex(3)}-",
        schedule_every=0,
        log=lines.append,
    )
    try:
        yield Stack(dev.start(), lines)
    finally:
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


def metric(client: str, round_: int, label: str, value: float) -> dict[str, Any]:
    """flip-utils' ``send_metrics``: ``TrainingMetrics(fl_client_name, global_round, label, result)``."""
    body = {"fl_client_name": client, "global_round": round_, "label": label, "result": value}
    return {"method": "POST", "path": f"model/{RUNNING}/metrics", "body": body}


def log(body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "path": f"model/{RUNNING}/logs", "body": body}


def status(value: str) -> dict[str, Any]:
    return {"method": "PUT", "path": f"model/{RUNNING}/status/{value}"}


def a_jobs_calls(rounds: int) -> list[dict[str, Any]]:
    """What an FL server says over one job: statuses, round events, NVFLARE's 0-based metric rounds
    and Flower's epochs, a client's handled exception, the end."""
    calls = [status("RUNNING")]
    for round_ in range(1, rounds + 1):
        calls.append(
            log(
                {
                    "fl_client_name": None,
                    "event_type": "ROUND_STARTED",
                    "global_round": round_,
                    "details": {"total_rounds": rounds},
                    "success": True,
                }
            )
        )
        for client in ("Trust_1", "Trust_3"):
            calls.append(
                log(
                    {
                        "fl_client_name": client,
                        "event_type": "CLIENT_RESULT_RECEIVED",
                        "global_round": round_,
                        "details": {"size_bytes": 2_400_000},
                    }
                )
            )
            calls.append(metric(client, round_ - 1, "LOSS_FUNCTION", 1 / round_))
            calls.append(
                {
                    **metric(client, round_, "TRAIN_LOSS", 0.5 / round_),
                    "body": {
                        **metric(client, round_, "TRAIN_LOSS", 0.5 / round_)["body"],
                        "x_label": "epoch",
                        "x_value": round_ * 2,
                    },
                }
            )
        calls.append(
            log(
                {
                    "event_type": "ROUND_AGGREGATED",
                    "global_round": round_,
                    "details": {"returned": 2, "expected": 2},
                }
            )
        )
    calls.append(
        log(
            {
                "fl_client_name": "Trust_3",
                "event_type": "JOB_WAITING_FOR_RESOURCES",
                "global_round": None,
                "details": {"attempt": 1, "max_attempts": 3, "final": False, "requested": {"gpus": 1}},
            }
        )
    )
    calls.append(log({"fl_client_name": "Trust_1", "log": "Traceback (most recent call last): …"}))
    calls.append(status("RESULTS_UPLOADED"))
    return calls


def count(session: Session, table: type[FLLogs] | type[FLMetrics], *where: Any) -> int:
    session.expire_all()
    return int(
        session.scalar(select(func.count()).select_from(table).where(table.model_id == RUNNING, *where)) or 0
    )


def test_flips_sender_unchanged_lands_every_call_once(stack: Stack, session: Session) -> None:
    metrics_before = count(session, FLMetrics)
    logs_before = count(session, FLLogs, FLLogs.fl_client_name.is_not(None) | FLLogs.event_type.is_not(None))
    calls = a_jobs_calls(rounds=3)

    answers = stack.send(calls)

    assert [a["url"] for a in answers][:1] == [f"{stack.internal_url}/model/{RUNNING}/status/RUNNING"]
    expected = [
        (200, {"success": "status set"})
        if c["method"] == "PUT"
        else (204, None)
        if c["path"].endswith("metrics")
        else (200, {"detail": "Created"})
        for c in calls
    ]
    assert [(a["status"], json.loads(a["text"]) if a["text"] else None) for a in answers] == expected

    sent = sum(c["path"].endswith("metrics") for c in calls)
    events = sum(c["path"].endswith("logs") for c in calls)
    wait_for(lambda: count(session, FLMetrics) == metrics_before + sent, "every metric")
    wait_for(
        lambda: (
            count(session, FLLogs, FLLogs.fl_client_name.is_not(None) | FLLogs.event_type.is_not(None))
            >= logs_before + events
        ),
        "every log row",
    )

    def finished() -> bool:
        session.expire_all()
        return session.scalar(select(Model.status).where(Model.id == RUNNING)) == ModelStatus.RESULTS_UPLOADED

    wait_for(finished, "the last status")
    # Every request's line names the message it became, and each message was applied once.
    lines = stack.ingress_lines_of(len(calls))
    assert len(lines) == len(calls)
    ids = [re.sub(r"^\S+ message ", "", line["fate"]) for line in lines]
    wait_for(lambda: all(stack.outcomes().get(i) for i in ids), "an outcome line per message")
    assert {stack.outcomes()[i] for i in ids} == {"applied"}
    assert count(session, FLMetrics) == metrics_before + sent  # nothing twice
    [epoch] = session.scalars(
        select(FLMetrics).where(
            FLMetrics.model_id == RUNNING,
            FLMetrics.label == "TRAIN_LOSS",
            FLMetrics.global_round == 3,
            FLMetrics.fl_client_name == "Trust_3",
        )
    ).all()
    assert (epoch.x_label, epoch.x_value) == ("epoch", 6.0)


def test_a_trailing_slash_on_the_url_changes_nothing(stack: Stack) -> None:
    [answer] = stack.send([status("RUNNING")], base=stack.internal_url + "/")

    assert answer["status"] == 200
    assert "//" not in answer["url"].split("://", 1)[1]


def test_flips_refusals_reach_the_sender_and_nothing_is_enqueued(stack: Stack) -> None:
    answers = stack.send(
        [
            metric("Trust_9", 1, "LOSS_FUNCTION", 0.1),
            log({"fl_client_name": "Trust_1", "event_type": "QUEUE_POSITION", "global_round": 1}),
            status("NOT_A_STATUS"),
        ]
    )
    wrong_key = stack.send([status("RUNNING")], key="not-the-key")

    assert [a["status"] for a in answers] == [400, 422, 422]
    assert json.loads(answers[0]["text"]) == {
        "detail": f"FL client 'Trust_9' could not be resolved to a trust (model: {RUNNING})"
    }
    assert json.loads(wrong_key[0]["text"]) == {"detail": "Invalid internal service key."}
    assert all(
        line["status"] != "200" and "message" not in (line["fate"] or "")
        for line in stack.ingress_lines_of(len(answers) + len(wrong_key))
    )


def _post(url: str, body: dict[str, Any], key: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Internal-Service-Key": KEY, "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_an_idempotency_key_applies_a_repeated_request_once_and_dead_letters_a_reused_one(
    stack: Stack, session: Session
) -> None:
    url = f"{stack.internal_url}/model/{RUNNING}/metrics"
    body = {"fl_client_name": "Trust_2", "global_round": 40, "label": "IDEMPOTENT", "result": 0.5}

    statuses = [_post(url, body, "job-9/metric/40"), _post(url, body, "job-9/metric/40")]
    statuses.append(_post(url, {**body, "result": 0.9}, "job-9/metric/40"))  # the key reused: another body

    assert statuses == [204, 204, 204]
    lines = stack.ingress_lines_of(3)
    ids = [re.sub(r"^\S+ message ", "", line["fate"]) for line in lines]
    wait_for(lambda: all(stack.outcomes().get(i) for i in ids), "an outcome line per message")
    assert sorted(stack.outcomes()[i] for i in ids) == sorted(
        ["applied", "duplicate", "dead-lettered: event_id: reused with a different body"]
    )
    session.expire_all()
    [row] = session.scalars(select(FLMetrics).where(FLMetrics.label == "IDEMPOTENT")).all()
    assert row.result == 0.5
