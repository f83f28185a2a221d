"""Idempotent demo data: one approved project, three trusts with FL kit slots, models in four states,
and a run whose FL server went silent (for the stale-run sweep).

Every row has a fixed id and is inserted with ``ON CONFLICT DO NOTHING``, so seeding twice changes
nothing and never undoes what a user did to the demo models since. Times are relative to the first
seeding: the running model's run started some forty minutes before, so its progress card has live
rounds and an estimate, and the stale-run sweep sees it alive.

The rows are FLIP-shaped: on FLIP's schema nothing has a server default, so every row sets its id and
every NOT NULL column, with the values flip-api itself writes (a trust registered with its kit slot
claimed at the same time, a cohort query by the project's owner dispatched to the project's trusts,
per-trust approvals decided by the hub admin, ``PENDING`` model-trust rows as ``save_model`` writes
them, scanned uploads with their content type). Timestamps are aware UTC datetimes, which the ORM's
``UtcDateTime`` stores as FLIP's naive UTC. Audit rows are FLIP's own actions only (``PREPARED``,
``RUNNING``, ``RESULTS_UPLOADED``, from background transitions: no user).

What the web app's pages read is all there: the project's cohort query, uploaded files, the demo
users' names, a queued model with its position, run rosters, and round events in which one trust
dropped out.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from flip_models.core.status import HUB_LOG_LINES
from flip_models.enums import (
    DecisionMaker,
    FileUploadStatus,
    FLBackend,
    FLLogEvent,
    JobStatus,
    ModelAuditAction,
    ModelStatus,
    NetStatus,
    ProjectStatus,
    TrustApprovalStatus,
    TrustIntersectStatus,
)
from flip_models.store.tables import (
    Base,
    FLJob,
    FLJobTrust,
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
    Query,
    Trust,
    UploadedFile,
    UserProfile,
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

#: The demo users' display names (``user_profile``).
DEMO_NAMES = {
    "admin": "Ada Admin",
    "owner": "Olu Owner",
    "researcher": "Rhea Researcher",
    "viewer": "Vik Viewer",
    "stranger": "Sam Stranger",
}

#: The demo trusts' region (``trust.region``) and the demo users' organisation (``user_profile``).
DEMO_REGION = "London"
DEMO_ORGANISATION = "FLIP demo"

#: The running model's run: rounds every ``_ROUND`` from ``_RUN_AGO`` before seeding, 10 planned.
_RUN_AGO = timedelta(minutes=40)
_ROUND = timedelta(minutes=9)
_TOTAL_ROUNDS = 10


@dataclass(frozen=True)
class DemoSummary:
    project_id: uuid.UUID
    pending_model_id: uuid.UUID
    running_model_id: uuid.UUID
    finished_model_id: uuid.UUID
    queued_model_id: uuid.UUID
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
        lines.append(f"  model queued (PENDING, position 1) {self.queued_model_id}")
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


def seed_demo(session: Session, now: datetime | None = None) -> DemoSummary:
    """Insert the demo data that is not there yet; returns the ids to try the service with.

    ``now`` (default: the current time; aware, in any zone) anchors the timeline of the rows inserted
    now.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    base = now - timedelta(hours=6)
    registered = base - timedelta(days=1)  # the trusts and the demo users
    approved = base + timedelta(minutes=15)  # the hub admin's per-trust decisions
    admin = DEMO_USERS["admin"][0]
    owner = DEMO_USERS["owner"][0]
    researcher = DEMO_USERS["researcher"][0]
    project_id = demo_id("project")
    trust_ids = {code: demo_id(f"trust:{code}") for code, _, _ in DEMO_TRUSTS}
    pending, running, finished = demo_id("model:pending"), demo_id("model:running"), demo_id("model:finished")
    queued = demo_id("model:queued")
    net_id, running_job, finished_job = demo_id("net:1"), demo_id("job:running"), demo_id("job:finished")
    queued_job = demo_id("job:queued")
    run_start = now - _RUN_AGO
    inserted = 0

    # A trust is registered with its key's hash, claiming the next free FL kit slot at once.
    inserted += _insert(
        session,
        Trust,
        [
            {
                "id": trust_ids[code],
                "name": name,
                "code": code,
                "region": DEMO_REGION,
                "api_key_hash": hashlib.sha256(f"flip-demo-trust-key:{code}".encode()).hexdigest(),
                "last_heartbeat": None,
                "created_at": registered + timedelta(minutes=index),
                "services_health": None,
                "services_health_at": None,
            }
            for index, (code, name, _) in enumerate(DEMO_TRUSTS)
        ],
    )
    inserted += _insert(
        session,
        FLKitSlot,
        [
            {
                "slot_name": slot,
                "slot_number": number,
                "assigned_to_trust_id": trust_ids[code],
                "assigned_at": registered + timedelta(minutes=number - 1),
            }
            for number, (code, _, slot) in enumerate(DEMO_TRUSTS, start=1)
        ],
    )
    inserted += _insert(
        session,
        UserProfile,
        [
            {
                "user_id": user_id,
                "name": DEMO_NAMES[role],
                "organisation": DEMO_ORGANISATION,
                "created_at": registered,
                "updated_at": registered,
            }
            for role, (user_id, _) in DEMO_USERS.items()
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
                "deleted": False,
                "creation_timestamp": base,
                "status": ProjectStatus.APPROVED,
                "dicom_to_nifti": True,
                "has_imaging": True,
            }
        ],
    )
    # Saved by the owner while the project was UNSTAGED, then dispatched to its trusts.
    inserted += _insert(
        session,
        Query,
        [
            {
                "id": demo_id("query:1"),
                "name": "Adult chest X-rays, 2019-2024",
                "query": "SELECT accession_id FROM imaging WHERE modality = 'CR' AND body_part = 'CHEST' "
                "AND study_date >= '2019-01-01' AND patient_age >= 18",
                "created": base + timedelta(minutes=10),
                "created_by": owner,
                "project_id": project_id,
                "queried_trust_ids": list(trust_ids.values()),
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
            {
                "id": demo_id(f"pti:{code}"),
                "project_id": project_id,
                "trust_id": trust_id,
                "status": TrustApprovalStatus.APPROVED,
                "decided_at": approved,
                "decided_by": admin,
                "decided_as": DecisionMaker.HUB,  # the hub admin decided: the trusts have no Trust Admin
            }
            for code, trust_id in trust_ids.items()
        ],
    )
    models = [
        (pending, "Pneumonia baseline (pending)", ModelStatus.PENDING, 1),
        (running, "Pneumonia ResNet-50 (running)", ModelStatus.RUNNING, 2),
        (finished, "Pneumonia DenseNet (finished)", ModelStatus.RESULTS_UPLOADED, 0),
        (queued, "Pneumonia ViT (queued)", ModelStatus.PENDING, 3),
    ]
    created = {model_id: base + timedelta(minutes=20 + 10 * order) for model_id, _, _, order in models}
    inserted += _insert(
        session,
        Model,
        [
            {
                "id": model_id,
                "name": name,
                "description": "Demo model seeded by flip-models seed-demo.",
                "status": status,
                "deleted": False,
                "project_id": project_id,
                "owner_id": researcher,
                "creation_timestamp": created[model_id],
            }
            for model_id, name, status, _ in models
        ],
    )
    inserted += _insert(session, ModelTrustIntersect, _model_trust_rows(list(created), trust_ids))
    inserted += _insert(session, UploadedFile, _file_rows(created))
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
    finished_start = base + timedelta(hours=1)
    inserted += _insert(
        session,
        FLJob,
        [
            {
                "id": finished_job,
                "model_id": finished,
                "status": JobStatus.COMPLETED,
                "created": finished_start - timedelta(minutes=1),
                "started": finished_start,
                "completed": finished_start + timedelta(hours=1),
                "fl_backend_job_id": str(demo_id(f"nvflare:{finished_job}")),
            },
            {
                "id": running_job,
                "model_id": running,
                "status": JobStatus.IN_PROGRESS,
                "created": run_start - timedelta(minutes=6),
                "started": run_start - timedelta(minutes=5),
                "completed": None,
                "fl_backend_job_id": str(demo_id(f"nvflare:{running_job}")),
            },
            {
                "id": queued_job,
                "model_id": queued,
                "status": JobStatus.QUEUED,
                "created": now - timedelta(minutes=12),
                "started": None,
                "completed": None,
                "fl_backend_job_id": None,  # not submitted to an FL net yet
            },
        ],
    )
    inserted += _insert(
        session,
        FLJobTrust,
        [
            {"fl_job_id": job, "trust_id": trust_id}
            for job in (finished_job, running_job)
            for trust_id in trust_ids.values()
        ],
    )
    inserted += _insert(
        session,
        FLScheduler,
        [{"id": demo_id("scheduler:1"), "net_id": net_id, "status": NetStatus.BUSY, "job_id": running_job}],
    )
    inserted += _insert(session, ModelsAudit, _audit_rows(running, run_start, finished, finished_start))
    inserted += _insert(session, FLLogs, _running_log_rows(running, run_start, trust_ids))
    inserted += _insert(session, FLLogs, _finished_log_rows(finished, finished_start, trust_ids))
    inserted += _insert(session, FLMetrics, _metric_rows(running, run_start, trust_ids, rounds=3))
    inserted += _insert(session, FLMetrics, _metric_rows(finished, finished_start, trust_ids, rounds=5))
    silent, silent_rows = _seed_silent_run(session, project_id, researcher, trust_ids, now)
    inserted += silent_rows
    return DemoSummary(
        project_id=project_id,
        pending_model_id=pending,
        running_model_id=running,
        finished_model_id=finished,
        queued_model_id=queued,
        silent_model_id=silent,
        trust_ids=trust_ids,
        users={role: user_id for role, (user_id, _) in DEMO_USERS.items()},
        rows_inserted=inserted,
    )


def _seed_silent_run(
    session: Session,
    project_id: uuid.UUID,
    owner_id: uuid.UUID,
    trust_ids: dict[str, uuid.UUID],
    now: datetime,
) -> tuple[uuid.UUID, int]:
    """A run whose FL server went silent: RUNNING, its job IN_PROGRESS on a second FL net whose
    scheduler is BUSY, its last sign of life three hours before the first seeding (older than the
    sweep's default 120 minutes), so the local stack's sweep fails it within its first interval.

    Returns the model's id and the rows inserted now (none once seeded: it keeps its first times).
    """
    model_id, net_id, job_id = demo_id("model:silent"), demo_id("net:2"), demo_id("job:silent")
    start = now - timedelta(hours=5)
    created = start - timedelta(hours=1)
    slots = _slots()
    model = {
        "id": model_id,
        "name": "Pneumonia ViT (FL server silent)",
        "description": "Demo model whose FL server stopped reporting mid-run.",
        "status": ModelStatus.RUNNING,
        "deleted": False,
        "project_id": project_id,
        "owner_id": owner_id,
        "creation_timestamp": created,
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
        "fl_backend_job_id": "1",  # Flower's run ids are integers
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
    inserted += _insert(session, ModelTrustIntersect, _model_trust_rows([model_id], trust_ids))
    inserted += _insert(session, UploadedFile, _file_rows({model_id: created}))
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


def _model_trust_rows(model_ids: list[uuid.UUID], trust_ids: dict[str, uuid.UUID]) -> list[dict[str, Any]]:
    """A model's trusts, as flip-api's ``save_model`` links them: each approved trust, ``PENDING``."""
    return [
        {
            "id": demo_id(f"mti:{model_id}:{code}"),
            "status": TrustIntersectStatus.PENDING,
            "model_id": model_id,
            "trust_id": trust_id,
            "fl_client_endpoint": None,
        }
        for model_id in model_ids
        for code, trust_id in trust_ids.items()
    ]


def _file_rows(created: dict[uuid.UUID, datetime]) -> list[dict[str, Any]]:
    """The files a researcher uploads for each model (by its creation time): its code, configuration
    and requirements, scanned clean a few minutes later. ``type`` is the upload's content type, as
    flip-api records it; Bandit's findings are recorded for Python files only (``[]``: none found)."""
    files = (
        ("config.json", 1_184.0, "application/json"),
        ("trainer.py", 18_342.0, "text/x-python"),
        ("requirements.txt", 96.0, "text/plain"),
    )
    return [
        {
            "id": demo_id(f"file:{model_id}:{name}"),
            "name": name,
            "status": FileUploadStatus.COMPLETED,
            "size": size,
            "type": content_type,
            "tag": None,
            "model_id": model_id,
            "updated_at": at + timedelta(minutes=3 + index),
            "bandit_findings": [] if name.endswith(".py") else None,
        }
        for model_id, at in created.items()
        for index, (name, size, content_type) in enumerate(files)
    ]


def _audit_rows(
    running: uuid.UUID, run_start: datetime, finished: uuid.UUID, finished_start: datetime
) -> list[dict[str, Any]]:
    steps = {
        running: (run_start, [ModelAuditAction.PREPARED, ModelAuditAction.RUNNING]),
        finished: (
            finished_start,
            [ModelAuditAction.PREPARED, ModelAuditAction.RUNNING, ModelAuditAction.RESULTS_UPLOADED],
        ),
    }
    return [
        {
            "id": demo_id(f"audit:{model_id}:{action}"),
            "model_id": model_id,
            "action": action,
            "user_id": None,
            "audit_date": start - timedelta(minutes=4) + timedelta(minutes=2 * index)
            if action != ModelAuditAction.RESULTS_UPLOADED
            else start + timedelta(hours=1),
        }
        for model_id, (start, actions) in steps.items()
        for index, action in enumerate(actions)
    ]


class _Timeline:
    """Log rows of one model, each with a fixed id (by position) and a time."""

    def __init__(self, model_id: uuid.UUID) -> None:
        self.model_id = model_id
        self.rows: list[dict[str, Any]] = []

    def add(self, at: datetime, **row: Any) -> None:
        # A multi-row INSERT needs the same keys in every row.
        empty = dict.fromkeys(("trust", "fl_client_name", "log", "event_type", "global_round", "details"))
        base = {"id": demo_id(f"log:{self.model_id}:{len(self.rows)}"), "model_id": self.model_id}
        self.rows.append(base | {"log_date": at, "success": True} | empty | row)

    def hub_lines(self, at: datetime, *statuses: ModelStatus) -> None:
        for index, status in enumerate(statuses):
            text, success = HUB_LOG_LINES[status]
            self.add(at + timedelta(seconds=30 * index), log=text, success=success)


def _slots() -> dict[str, str]:
    return {code: slot for code, _, slot in DEMO_TRUSTS}


def _round_events(
    timeline: _Timeline,
    round_: int,
    started: datetime,
    results: dict[str, uuid.UUID],
    expected: int,
) -> None:
    """A round: started by the hub, a result from each trust in ``results``, aggregated."""
    slots = _slots()
    timeline.add(
        started,
        event_type=FLLogEvent.ROUND_STARTED,
        global_round=round_,
        details={"total_rounds": _TOTAL_ROUNDS},
    )
    for offset, (code, trust_id) in enumerate(results.items()):
        timeline.add(
            started + timedelta(minutes=5, seconds=40 * offset),
            trust=trust_id,
            fl_client_name=slots[code],
            event_type=FLLogEvent.CLIENT_RESULT_RECEIVED,
            global_round=round_,
            details={"size_bytes": 94_371_840 + 1_048_576 * round_},
        )
    if len(results) == expected:
        timeline.add(
            started + timedelta(minutes=8),
            event_type=FLLogEvent.ROUND_AGGREGATED,
            global_round=round_,
            details={"returned": len(results), "expected": expected},
        )


def _running_log_rows(
    model_id: uuid.UUID, run_start: datetime, trust_ids: dict[str, uuid.UUID]
) -> list[dict[str, Any]]:
    """A live run at round 4 of 10: rounds 1-3 complete; in round 4 GSTT has returned, UCLH is
    training, and KCH reported a failure and went quiet (dropped)."""
    slots = _slots()
    timeline = _Timeline(model_id)
    timeline.hub_lines(
        run_start - timedelta(minutes=5), ModelStatus.INITIATED, ModelStatus.PREPARED, ModelStatus.RUNNING
    )
    timeline.add(
        run_start - timedelta(minutes=3),
        trust=trust_ids["KCH"],
        fl_client_name=slots["KCH"],
        event_type=FLLogEvent.JOB_WAITING_FOR_RESOURCES,
        details={
            "attempt": 1,
            "max_attempts": 5,
            "final": False,
            "requested": {"num_of_gpus": 1, "mem_per_gpu_in_GiB": 16},
        },
    )
    for round_ in (1, 2, 3):
        _round_events(timeline, round_, run_start + _ROUND * (round_ - 1), trust_ids, len(trust_ids))
    fourth = run_start + _ROUND * 3
    _round_events(timeline, 4, fourth, {"GSTT": trust_ids["GSTT"]}, len(trust_ids))
    timeline.add(
        fourth + timedelta(minutes=2),
        trust=trust_ids["KCH"],
        fl_client_name=slots["KCH"],
        log='Traceback (most recent call last):\n  File "trainer.py", line 88, in train\n'
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
        success=False,
    )
    timeline.add(
        fourth + timedelta(minutes=3),
        trust=trust_ids["UCLH"],
        fl_client_name=slots["UCLH"],
        log="Site UCLH: 1,204 images loaded.",
    )
    return timeline.rows


def _finished_log_rows(
    model_id: uuid.UUID, started: datetime, trust_ids: dict[str, uuid.UUID]
) -> list[dict[str, Any]]:
    """A complete run of five rounds, every trust returning each round, results uploaded."""
    timeline = _Timeline(model_id)
    timeline.hub_lines(
        started - timedelta(minutes=5), ModelStatus.INITIATED, ModelStatus.PREPARED, ModelStatus.RUNNING
    )
    for round_ in range(1, 6):
        _round_events(timeline, round_, started + _ROUND * (round_ - 1), trust_ids, len(trust_ids))
    timeline.hub_lines(started + timedelta(hours=1), ModelStatus.RESULTS_UPLOADED)
    return timeline.rows


def _metric_rows(
    model_id: uuid.UUID, started: datetime, trust_ids: dict[str, uuid.UUID], *, rounds: int
) -> list[dict[str, Any]]:
    """NVFLARE-style metrics: 0-based rounds, labels LOSS_FUNCTION and ACCURACY, x axis "Global Rounds"."""
    slots = _slots()
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
                        "timestamp": started + _ROUND * round_ + timedelta(minutes=6),
                    }
                )
    return rows
