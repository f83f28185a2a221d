"""Idempotent demo data: one approved project, three trusts with FL kit slots, models in three states,
and a run whose FL server went silent (for the stale-run sweep).

Every row has a fixed id and is inserted with ``ON CONFLICT DO NOTHING``, so seeding twice changes
nothing and never undoes what a user did to the demo models since.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from flip_models.core.status import HUB_LOG_LINES
from flip_models.enums import (
    FLBackend,
    FLLogEvent,
    JobStatus,
    ModelAuditAction,
    ModelStatus,
    NetStatus,
    ProjectStatus,
)
from flip_models.store.tables import (
    Base,
    FLJob,
    FLKitSlot,
    FLLogs,
    FLMetrics,
    FLNets,
    FLScheduler,
    Model,
    ModelsAudit,
    ModelTrustIntersect,
    Project,
    ProjectTrustIntersect,
    ProjectUserAccess,
    Trust,
)

_NAMESPACE = uuid.UUID("6f1c1d2e-8a57-4c1e-9d43-2f0b6a7c9e10")


def demo_id(name: str) -> uuid.UUID:
    """The fixed id of a demo row."""
    return uuid.uuid5(_NAMESPACE, name)


#: Demo users (Cognito ``sub``s); groups are what the dev identity header should carry.
DEMO_USERS: dict[str, tuple[uuid.UUID, list[str]]] = {
    "admin": (uuid.UUID("11111111-1111-4111-8111-111111111111"), ["admin"]),
    "owner": (uuid.UUID("22222222-2222-4222-8222-222222222222"), ["researcher"]),
    "researcher": (uuid.UUID("33333333-3333-4333-8333-333333333333"), ["researcher"]),
    "viewer": (uuid.UUID("44444444-4444-4444-8444-444444444444"), []),
    "stranger": (uuid.UUID("55555555-5555-4555-8555-555555555555"), ["researcher"]),
}

DEMO_TRUSTS = [
    ("GSTT", "Guy's and St Thomas' NHS Foundation Trust", "Trust_1"),
    ("UCLH", "University College London Hospitals NHS Foundation Trust", "Trust_2"),
    ("KCH", "King's College Hospital NHS Foundation Trust", "Trust_3"),
]

_BASE_TIME = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoSummary:
    project_id: uuid.UUID
    pending_model_id: uuid.UUID
    running_model_id: uuid.UUID
    finished_model_id: uuid.UUID
    silent_model_id: uuid.UUID
    trust_ids: dict[str, uuid.UUID]
    users: dict[str, uuid.UUID]
    rows_inserted: int

    def as_dict(self) -> dict[str, Any]:
        return {key: _jsonable(value) for key, value in asdict(self).items()}

    def describe(self) -> str:
        lines = [f"demo data ready ({self.rows_inserted} rows inserted now)"]
        lines.append(f"  project            {self.project_id}")
        lines.append(f"  model PENDING      {self.pending_model_id}")
        lines.append(f"  model RUNNING      {self.running_model_id}")
        lines.append(f"  model RESULTS_UPLOADED {self.finished_model_id}")
        lines.append(f"  model RUNNING, FL server silent {self.silent_model_id} (the sweep fails it)")
        for role, user_id in self.users.items():
            groups = ",".join(DEMO_USERS[role][1]) or "-"
            lines.append(f"  user {role:<11} {user_id}  groups: {groups}")
        return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return str(value) if isinstance(value, uuid.UUID) else value


def _insert(session: Session, table: type[Base], rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    result = session.execute(
        insert(table).values(rows).on_conflict_do_nothing().returning(inspect(table).primary_key[0])
    )
    return len(result.all())


def seed_demo(session: Session) -> DemoSummary:
    """Insert the demo data that is not there yet; returns the ids to try the service with."""
    owner = DEMO_USERS["owner"][0]
    researcher = DEMO_USERS["researcher"][0]
    project_id = demo_id("project")
    trust_ids = {code: demo_id(f"trust:{code}") for code, _, _ in DEMO_TRUSTS}
    pending, running, finished = demo_id("model:pending"), demo_id("model:running"), demo_id("model:finished")
    net_id, running_job, finished_job = demo_id("net:1"), demo_id("job:running"), demo_id("job:finished")
    inserted = 0

    inserted += _insert(
        session,
        Trust,
        [{"id": trust_ids[code], "name": name, "code": code} for code, name, _ in DEMO_TRUSTS],
    )
    inserted += _insert(
        session,
        FLKitSlot,
        [
            {
                "slot_name": slot,
                "slot_number": number,
                "assigned_to_trust_id": trust_ids[code],
                "assigned_at": _BASE_TIME,
            }
            for number, (code, _, slot) in enumerate(DEMO_TRUSTS, start=1)
        ],
    )
    inserted += _insert(
        session,
        Project,
        [
            {
                "id": project_id,
                "name": "Demo: chest X-ray pneumonia classifier",
                "description": "A federated demo project across three London trusts.",
                "owner_id": owner,
                "status": ProjectStatus.APPROVED,
                "creation_timestamp": _BASE_TIME,
            }
        ],
    )
    inserted += _insert(
        session,
        ProjectUserAccess,
        [
            {"id": demo_id(f"access:{role}"), "project_id": project_id, "user_id": DEMO_USERS[role][0]}
            for role in ("researcher", "viewer")
        ],
    )
    inserted += _insert(
        session,
        ProjectTrustIntersect,
        [
            {"id": demo_id(f"pti:{code}"), "project_id": project_id, "trust_id": trust_id, "approved": True}
            for code, trust_id in trust_ids.items()
        ],
    )
    models = [
        (pending, "Pneumonia baseline (pending)", ModelStatus.PENDING, 0),
        (running, "Pneumonia ResNet-50 (running)", ModelStatus.RUNNING, 1),
        (finished, "Pneumonia DenseNet (finished)", ModelStatus.RESULTS_UPLOADED, 2),
    ]
    inserted += _insert(
        session,
        Model,
        [
            {
                "id": model_id,
                "name": name,
                "description": "Demo model seeded by flip-models seed-demo.",
                "status": status,
                "project_id": project_id,
                "owner_id": researcher,
                "creation_timestamp": _BASE_TIME + timedelta(hours=offset),
            }
            for model_id, name, status, offset in models
        ],
    )
    inserted += _insert(
        session,
        ModelTrustIntersect,
        [
            {"id": demo_id(f"mti:{model_id}:{code}"), "model_id": model_id, "trust_id": trust_id}
            for model_id, _, _, _ in models
            for code, trust_id in trust_ids.items()
        ],
    )
    inserted += _insert(
        session,
        FLNets,
        [
            {
                "id": net_id,
                "name": "demo-net-1",
                "endpoint": "http://fl-net-1:8000",
                "fl_backend": FLBackend.NVFLARE,
            }
        ],
    )
    inserted += _insert(
        session,
        FLJob,
        [
            {
                "id": finished_job,
                "model_id": finished,
                "status": JobStatus.COMPLETED,
                "created": _BASE_TIME + timedelta(hours=2),
                "started": _BASE_TIME + timedelta(hours=2, minutes=1),
                "completed": _BASE_TIME + timedelta(hours=3),
            },
            {
                "id": running_job,
                "model_id": running,
                "status": JobStatus.IN_PROGRESS,
                "created": _BASE_TIME + timedelta(hours=4),
                "started": _BASE_TIME + timedelta(hours=4, minutes=1),
                "completed": None,
            },
        ],
    )
    inserted += _insert(
        session,
        FLScheduler,
        [{"id": demo_id("scheduler:1"), "net_id": net_id, "status": NetStatus.BUSY, "job_id": running_job}],
    )
    inserted += _insert(session, ModelsAudit, _audit_rows(running, finished))
    inserted += _insert(session, FLLogs, _log_rows(running, 4, trust_ids, rounds=3, finished=False))
    inserted += _insert(session, FLLogs, _log_rows(finished, 2, trust_ids, rounds=5, finished=True))
    inserted += _insert(session, FLMetrics, _metric_rows(running, 4, trust_ids, rounds=3))
    inserted += _insert(session, FLMetrics, _metric_rows(finished, 2, trust_ids, rounds=5))
    silent, silent_rows = _seed_silent_run(session, project_id, researcher, trust_ids)
    inserted += silent_rows
    return DemoSummary(
        project_id=project_id,
        pending_model_id=pending,
        running_model_id=running,
        finished_model_id=finished,
        silent_model_id=silent,
        trust_ids=trust_ids,
        users={role: user_id for role, (user_id, _) in DEMO_USERS.items()},
        rows_inserted=inserted,
    )


def _seed_silent_run(
    session: Session, project_id: uuid.UUID, owner_id: uuid.UUID, trust_ids: dict[str, uuid.UUID]
) -> tuple[uuid.UUID, int]:
    """A run whose FL server went silent: RUNNING, its job IN_PROGRESS on a second FL net whose
    scheduler is BUSY, its last sign of life three hours before the first seeding (older than the
    sweep's default 120 minutes), so the local stack's sweep fails it within its first interval.

    Returns the model's id and the rows inserted now (none once seeded: it keeps its first times).
    """
    model_id, net_id, job_id = demo_id("model:silent"), demo_id("net:2"), demo_id("job:silent")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    slots = {code: slot for code, _, slot in DEMO_TRUSTS}
    model = {
        "id": model_id,
        "name": "Pneumonia ViT (FL server silent)",
        "description": "Demo model whose FL server stopped reporting mid-run.",
        "status": ModelStatus.RUNNING,
        "project_id": project_id,
        "owner_id": owner_id,
        "creation_timestamp": start - timedelta(hours=1),
    }
    net = {
        "id": net_id,
        "name": "demo-net-2",
        "endpoint": "http://fl-net-2:9091",
        "fl_backend": FLBackend.FLOWER,
    }
    job = {
        "id": job_id,
        "model_id": model_id,
        "status": JobStatus.IN_PROGRESS,
        "created": start,
        "started": start + timedelta(minutes=1),
        "completed": None,
    }
    audit = [
        {
            "id": demo_id(f"audit:{model_id}:{action}"),
            "model_id": model_id,
            "action": action,
            "user_id": None,
            "audit_date": start + timedelta(minutes=2 + index),
        }
        for index, action in enumerate((ModelAuditAction.PREPARED, ModelAuditAction.RUNNING))
    ]
    lines: list[dict[str, Any]] = []
    empty = dict.fromkeys(("trust", "fl_client_name", "log", "event_type", "global_round", "details"))
    for index, status in enumerate((ModelStatus.INITIATED, ModelStatus.PREPARED, ModelStatus.RUNNING)):
        text, success = HUB_LOG_LINES[status]
        lines.append(
            empty | {"log": text, "success": success, "log_date": start + timedelta(minutes=index + 1)}
        )
    lines.append(
        empty
        | {
            "event_type": FLLogEvent.ROUND_STARTED,
            "global_round": 1,
            "details": {"total_rounds": 20},
            "success": True,
            "log_date": start + timedelta(minutes=10),
        }
    )
    # The last sign of life: one trust's result, two hours into the run; then silence.
    lines.append(
        empty
        | {
            "trust": trust_ids["GSTT"],
            "fl_client_name": slots["GSTT"],
            "event_type": FLLogEvent.CLIENT_RESULT_RECEIVED,
            "global_round": 1,
            "details": {"size_bytes": 343_932_928},
            "success": True,
            "log_date": start + timedelta(hours=2),
        }
    )
    inserted = _insert(session, Model, [model])
    inserted += _insert(
        session,
        ModelTrustIntersect,
        [
            {"id": demo_id(f"mti:{model_id}:{code}"), "model_id": model_id, "trust_id": trust_id}
            for code, trust_id in trust_ids.items()
        ],
    )
    inserted += _insert(session, FLNets, [net])
    inserted += _insert(session, FLJob, [job])
    inserted += _insert(
        session,
        FLScheduler,
        [{"id": demo_id("scheduler:2"), "net_id": net_id, "status": NetStatus.BUSY, "job_id": job_id}],
    )
    inserted += _insert(session, ModelsAudit, audit)
    inserted += _insert(
        session,
        FLLogs,
        [
            {"id": demo_id(f"log:{model_id}:{index}"), "model_id": model_id} | row
            for index, row in enumerate(lines)
        ],
    )
    return model_id, inserted


def _audit_rows(running: uuid.UUID, finished: uuid.UUID) -> list[dict[str, Any]]:
    steps = {
        running: [ModelAuditAction.PREPARED, ModelAuditAction.RUNNING],
        finished: [ModelAuditAction.PREPARED, ModelAuditAction.RUNNING, ModelAuditAction.RESULTS_UPLOADED],
    }
    start = {running: _BASE_TIME + timedelta(hours=4), finished: _BASE_TIME + timedelta(hours=2)}
    return [
        {
            "id": demo_id(f"audit:{model_id}:{action}"),
            "model_id": model_id,
            "action": action,
            "user_id": None,
            "audit_date": start[model_id] + timedelta(minutes=5 * index),
        }
        for model_id, actions in steps.items()
        for index, action in enumerate(actions)
    ]


def _log_rows(
    model_id: uuid.UUID, start_hour: int, trust_ids: dict[str, uuid.UUID], *, rounds: int, finished: bool
) -> list[dict[str, Any]]:
    """Hub lines, typed round events from every trust, one waiting event and a free-text line."""
    at = _BASE_TIME + timedelta(hours=start_hour)
    rows: list[dict[str, Any]] = []

    def add(**row: Any) -> None:
        nonlocal at
        at += timedelta(seconds=30)
        # A multi-row INSERT needs the same keys in every row.
        empty = dict.fromkeys(("trust", "fl_client_name", "log", "event_type", "global_round", "details"))
        base = {"id": demo_id(f"log:{model_id}:{len(rows)}"), "model_id": model_id, "log_date": at}
        rows.append(base | {"success": True} | empty | row)

    for status in (ModelStatus.INITIATED, ModelStatus.PREPARED, ModelStatus.RUNNING):
        text, success = HUB_LOG_LINES[status]
        add(log=text, success=success)
    slots = {code: slot for code, _, slot in DEMO_TRUSTS}
    add(
        trust=trust_ids["KCH"],
        fl_client_name=slots["KCH"],
        event_type=FLLogEvent.JOB_WAITING_FOR_RESOURCES,
        details={"attempt": 1, "max_attempts": 5, "final": False, "requested": {"gpus": 1}},
    )
    for round_ in range(1, rounds + 1):
        add(event_type=FLLogEvent.ROUND_STARTED, global_round=round_, details={"total_rounds": 10})
        for code, trust_id in trust_ids.items():
            add(
                trust=trust_id,
                fl_client_name=slots[code],
                event_type=FLLogEvent.CLIENT_RESULT_RECEIVED,
                global_round=round_,
                details={"size_bytes": 94_371_840 + 1_048_576 * round_},
            )
        add(
            event_type=FLLogEvent.ROUND_AGGREGATED,
            global_round=round_,
            details={"returned": len(trust_ids), "expected": len(trust_ids)},
        )
    add(trust=trust_ids["UCLH"], fl_client_name=slots["UCLH"], log="Site UCLH: 1,204 images loaded.")
    if finished:
        text, success = HUB_LOG_LINES[ModelStatus.RESULTS_UPLOADED]
        add(log=text, success=success)
    return rows


def _metric_rows(
    model_id: uuid.UUID, start_hour: int, trust_ids: dict[str, uuid.UUID], *, rounds: int
) -> list[dict[str, Any]]:
    """NVFLARE-style metrics: 0-based rounds, labels LOSS_FUNCTION and ACCURACY, x axis "Global Rounds"."""
    slots = {code: slot for code, _, slot in DEMO_TRUSTS}
    rows: list[dict[str, Any]] = []
    for index, (code, trust_id) in enumerate(trust_ids.items()):
        for round_ in range(rounds):
            for label, value in (
                ("LOSS_FUNCTION", round(0.9 / (round_ + 1) + 0.02 * index, 4)),
                ("ACCURACY", round(0.6 + 0.06 * round_ - 0.01 * index, 4)),
            ):
                rows.append(
                    {
                        "id": demo_id(f"metric:{model_id}:{code}:{label}:{round_}"),
                        "model_id": model_id,
                        "trust": trust_id,
                        "fl_client_name": slots[code],
                        "global_round": round_,
                        "label": label,
                        "result": value,
                        "x_label": "Global Rounds",
                        "x_value": float(round_),
                        "timestamp": _BASE_TIME + timedelta(hours=start_hour, minutes=round_),
                    }
                )
    return rows
