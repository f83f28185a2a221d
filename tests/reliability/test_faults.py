"""Faults (SPEC §4–§6): PostgreSQL lost mid-run while FL messages flow through LocalStack, a connection
killed between two warm invocations, and Secrets Manager down at a cold start.

The database is reached through a TCP proxy the test cuts and restores (the machine's PostgreSQL is
shared, so it is never stopped); its backends are terminated with ``pg_terminate_backend``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from sqlalchemy import make_url, select, text
from sqlalchemy.orm import Session

from flip_models.core.audit import model_audit_trail
from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, NetStatus, StatusAuditAction
from flip_models.store import db
from flip_models.store.tables import (
    FLJob,
    FLLogMessage,
    FLMetricMessage,
    FLScheduler,
    Model,
    ReceivedStatusMessage,
)
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world
from tests.handlers.conftest import invoke as invoke_sqs
from tests.integration.conftest import VISIBILITY_TIMEOUT
from tests.integration.template_queues import FLQueuePair, poll_once
from tests.reliability.conftest import record
from tests.reliability.proxy import CuttableProxy
from tests.sqs_events import bodies_event, failed_ids, metric_body, text_log_body

pytestmark = pytest.mark.localstack

FUNCTIONS = ("fl_logs", "fl_metrics", "fl_status")


@pytest.fixture
def proxy(database_url: str, engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CuttableProxy]:
    """The handlers reach the test database through a cuttable proxy (3 s timeouts)."""
    url = make_url(database_url)
    cuttable = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    monkeypatch.setenv("DATABASE_URL", url.set(port=cuttable.port).render_as_string(hide_password=False))
    monkeypatch.setenv("DB_TIMEOUT_SECONDS", "3")
    db.reset_engine()
    yield cuttable
    cuttable.close()
    monkeypatch.undo()
    db.reset_engine()


def terminate_backends(session: Session, ports: list[int]) -> int:
    """``pg_terminate_backend`` on the proxied connections of this database; how many."""
    terminated = session.execute(
        text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND client_port = ANY(:ports)"
        ),
        {"ports": ports},
    ).scalar_one()
    session.commit()
    return int(terminated)


def test_postgres_lost_mid_run_gives_503_then_every_message_is_applied_exactly_once(
    fl_queues: Any, given: Given, session: Session, proxy: CuttableProxy
) -> None:
    trust = given.trust(code="GSTT", slot="Trust_1")
    world = build_world(given)
    model = world.another_model(status=ModelStatus.RUNNING, trusts=[*world.trusts, trust])
    job = given.job(model, status=JobStatus.IN_PROGRESS)
    scheduler = given.busy_scheduler(job)
    pairs: dict[str, FLQueuePair] = {function: fl_queues(function) for function in FUNCTIONS}
    sent: dict[str, list[str]] = {function: [] for function in FUNCTIONS}
    statuses = iter(["RUNNING", "ERROR", "RESULTS_UPLOADED"])
    polls: Counter[str] = Counter()
    faults: Counter[str] = Counter()

    def send_wave(size: int) -> None:
        for _ in range(size):
            n = len(sent["fl_logs"])
            sent["fl_logs"].append(pairs["fl_logs"].send(text_log_body(model.id, n)))
            sent["fl_metrics"].append(pairs["fl_metrics"].send(metric_body(model.id, n)))
        status = next(statuses, None)
        if status is not None:
            body = {"model_id": str(model.id), "status": status, "event_id": f"job-1:{status}"}
            sent["fl_status"].append(
                pairs["fl_status"].send(body, group_id=str(model.id), dedup_id=f"job-1:{status}")
            )

    def poll_all() -> dict[str, list[str]]:
        failed = {}
        for function, pair in pairs.items():
            result = poll_once(pair, wait_seconds=0)
            polls["received"] += len(result.received)
            polls["failed"] += len(result.failed)
            failed[function] = result.failed
        return failed

    # Messages flow and are applied.
    send_wave(20)
    assert poll_all() == {function: [] for function in FUNCTIONS}

    # Fault 1: the handlers' backends are terminated between two batches: recovered transparently.
    send_wave(20)
    faults["backends_terminated"] += terminate_backends(session, proxy.upstream_ports())
    assert faults["backends_terminated"] >= 1
    assert poll_all() == {function: [] for function in FUNCTIONS}

    # Fault 2: the server becomes unreachable while messages keep coming.
    send_wave(20)
    proxy.cut()
    faults["server_unreachable"] += 1
    failed = poll_all()
    assert all(failed[function] for function in FUNCTIONS), failed  # reported for retry, none dropped
    api = world.admin.call("get_model_status", "GET", "/model/{modelId}/status", {"modelId": str(model.id)})
    body = assert_error(api, 503)
    assert api.headers["Retry-After"] == "5"
    assert "127.0.0.1" not in body["message"]

    # Recovery: SQS delivers the failed messages again after the visibility timeout.
    proxy.restore()
    time.sleep(VISIBILITY_TIMEOUT)
    deadline = time.monotonic() + 90
    while any(pair.visible_and_in_flight() != (0, 0) for pair in pairs.values()):
        assert time.monotonic() < deadline, "queues not drained after recovery"
        poll_all()
    assert (
        world.admin.call(
            "get_model_status", "GET", "/model/{modelId}/status", {"modelId": str(model.id)}
        ).status
        == 200
    )

    session.expire_all()
    for function, column in (
        ("fl_logs", FLLogMessage.message_id),
        ("fl_metrics", FLMetricMessage.message_id),
        ("fl_status", ReceivedStatusMessage.message_id),
    ):
        stored = Counter(session.scalars(select(column)))
        keys = (
            sent[function]
            if function != "fl_status"
            else [f"job-1:{s}" for s in ("RUNNING", "ERROR", "RESULTS_UPLOADED")]
        )
        assert stored == Counter(keys), function  # every message once, nothing else
        assert pairs[function].dead_letters() == []
    redelivered = sum(count > 1 for pair in pairs.values() for count in pair.receive_counts.values())
    assert redelivered >= len(sent["fl_logs"]) // 3  # the third wave came back after the outage
    assert session.scalar(select(Model.status).where(Model.id == model.id)) == ModelStatus.RESULTS_UPLOADED
    audit = Counter(entry.action for entry in model_audit_trail(model.id, session))
    assert audit == Counter({StatusAuditAction.ERROR: 1, ModelAuditAction.RESULTS_UPLOADED: 1})
    assert session.scalar(select(FLJob.status).where(FLJob.id == job.id)) == JobStatus.COMPLETED
    assert (
        session.scalar(select(FLScheduler.status).where(FLScheduler.id == scheduler.id))
        == NetStatus.AVAILABLE
    )
    total_sent = sum(len(ids) for ids in sent.values())
    record(
        "faults.postgres_lost",
        faults_injected=sum(faults.values()),
        backends_terminated=faults["backends_terminated"],
        server_cuts=faults["server_unreachable"],
        sent=total_sent,
        applied=total_sent,
        rejected=0,
        duplicated=0,
        redelivered=redelivered,
        deliveries_failed_while_down=polls["failed"],
        api_503=1,
    )


def test_a_connection_killed_between_two_warm_invocations_is_replaced(given: Given, session: Session) -> None:
    world = build_world(given)
    path = {"modelId": str(world.model.id)}
    assert world.admin.call("get_model_status", "GET", "/model/{modelId}/status", path).status == 200
    with db.get_engine().connect() as connection:  # the container's one pooled connection
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()

    assert session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    session.commit()
    response = world.admin.call("get_model_status", "GET", "/model/{modelId}/status", path)

    assert response.status == 200, response.raw_body
    assert response.body == {"status": "PENDING", "deleted": False}
    with db.get_engine().connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    record("faults.warm_connection_killed", faults_injected=1, recovered=1)


@pytest.fixture
def cold_start_with_secret(engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A container configured with ``DB_SECRET_ARN`` (no ``DATABASE_URL``), cold."""
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-2:123456789012:secret:flip-db")
    db.reset_engine()
    yield monkeypatch
    monkeypatch.undo()
    db.reset_engine()


def test_secrets_manager_down_at_cold_start_is_a_clear_503_and_batches_are_retried(
    given: Given, cold_start_with_secret: pytest.MonkeyPatch, database_url: str
) -> None:
    world = build_world(given)
    cold_start_with_secret.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:1")
    path = {"modelId": str(world.model.id)}

    api = world.admin.call("get_model", "GET", "/model/{modelId}", path)

    body = assert_error(api, 503)
    assert "Secrets Manager" in body["message"]
    assert api.headers["Retry-After"] == "5"
    for leak in ("127.0.0.1", "arn:", "secret:flip-db"):
        assert leak not in (api.raw_body or "")
    batches = {
        "fl_logs": bodies_event([text_log_body(world.model.id, 1)], queue="fl-logs-dev"),
        "fl_status": bodies_event(
            [{"model_id": str(world.model.id), "status": "ERROR"}], queue="fl-status-dev.fifo"
        ),
    }
    for function, event in batches.items():
        response = invoke_sqs(function, event)
        assert failed_ids(response) == [r["messageId"] for r in event["Records"]], function

    # Secrets Manager back (here: the database URL given directly): the next invocation works.
    cold_start_with_secret.delenv("DB_SECRET_ARN")
    cold_start_with_secret.setenv("DATABASE_URL", database_url)
    db.reset_engine()
    assert world.admin.call("get_model", "GET", "/model/{modelId}", path).status == 200
    record("faults.secrets_manager_down", faults_injected=1, api_503=1, batches_retried=len(batches))


@mock_aws
def test_a_secret_that_cannot_be_read_is_a_500_and_the_log_names_the_configuration_problem(
    given: Given, cold_start_with_secret: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The caller learns only that the operator must act; the operator's log says what to fix (the
    setting's name and the AWS error) — configuration detail never reaches a response."""
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        cold_start_with_secret.delenv(variable, raising=False)
    world = build_world(given)
    caplog.clear()

    api = world.admin.call("get_model", "GET", "/model/{modelId}", {"modelId": str(world.model.id)})

    body = assert_error(api, 500)
    assert body["message"] == "the service is misconfigured; the operator must fix it"
    assert "DB_SECRET_ARN" not in (api.raw_body or "")
    assert "arn:" not in (api.raw_body or "")
    reasons = [r.__dict__.get("reason", "") for r in caplog.records if r.getMessage() == "misconfigured"]
    assert reasons == [
        "the database secret named by DB_SECRET_ARN could not be read (ResourceNotFoundException)"
    ]
    record("faults.secret_missing", faults_injected=1, api_500=1)


def test_a_setting_out_of_range_is_a_generic_500_and_the_log_names_the_setting(
    given: Given, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(given)
    monkeypatch.setenv("DB_TIMEOUT_SECONDS", "ten")
    db.reset_engine()
    caplog.clear()
    try:
        api = world.admin.call("get_model", "GET", "/model/{modelId}", {"modelId": str(world.model.id)})
    finally:
        monkeypatch.undo()
        db.reset_engine()

    body = assert_error(api, 500)
    assert body["message"] == "the service is misconfigured; the operator must fix it"
    assert "DB_TIMEOUT_SECONDS" not in (api.raw_body or "")
    reasons = [r.__dict__.get("reason", "") for r in caplog.records if r.getMessage() == "misconfigured"]
    assert len(reasons) == 1
    assert reasons[0].startswith("invalid configuration: DB_TIMEOUT_SECONDS:")


@pytest.mark.parametrize("attempt", range(3))
def test_a_connection_dropped_by_the_network_between_two_warm_invocations_is_replaced(
    attempt: int, given: Given, proxy: CuttableProxy
) -> None:
    """Found here: pg8000 lets a reset connection escape as a bare ConnectionResetError, which the
    pre-ping did not count as a disconnect, so the warm container failed its next invocation."""
    world = build_world(given)
    path = {"modelId": str(world.model.id)}
    assert world.admin.call("get_model_status", "GET", "/model/{modelId}/status", path).status == 200

    proxy.cut()  # the connection is reset under the idle container...
    proxy.restore()  # ...and the database is reachable again at once
    response = world.admin.call("get_model_status", "GET", "/model/{modelId}/status", path)

    assert response.status == 200, response.raw_body
    record("faults.warm_connection_reset", faults_injected=1, recovered=1)
