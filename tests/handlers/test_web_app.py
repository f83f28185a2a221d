"""FLIP's web app (flip-ui) against this API, its calls replayed exactly as it makes them.

What the web app sends and reads was taken from flip-ui's source (``services/api.ts``,
``services/model-service.ts``, ``pages/models.vue``, ``pages/project/[projectId]/model/[modelId]``,
``partials/models/Timeline.vue``, ``TrainingMetrics.vue``, ``RoundProgress.vue``): every request
carries ``Authorization: Bearer <Cognito access token>``; the model page is a ``POST`` without a
body; the timeline, the metrics card and the progress card send no query string; the models list
always sends ``pageNumber`` and ``pageSize=20``, ``search`` (URL-encoded) and ``status`` (one
comma-joined value) and ``project`` only when set. Each call is checked field by field against the
types the web app declares, for the admin, the project owner, a researcher and a viewer; a field the
web app reads that goes missing fails its test (``has_types``).

The calls, from the newest flip-ui (londonaicentre/FLIP ``flip-ui/src``, read 2026-12-07):

- ``POST /step/model/{id}``, no body, polled every 5 s: ``pages/project/[projectId]/model/[modelId]/
  index.vue`` (@102161ce), the model page; ``files[].status`` must all be ``COMPLETED``.
- ``GET /model/job-types``, once per page: the same page's ``onBeforeMount`` → ``fetchJobTypes``;
  ``getRequiredFilesForJobType(map, type) = map[type] ?? map["standard"] ?? []`` (file-service.ts).
- ``GET /model/{id}/logs``, no query, polled: ``partials/models/Timeline.vue`` (@db8f6d1e); reads no
  header (a non-array body is an empty feed).
- ``GET /model/{id}/metrics``, polled: ``partials/models/TrainingMetrics.vue`` (@26b2d976).
- ``GET /model/{id}/progress``, polled while live: ``partials/models/RoundProgress.vue`` (@3f76655f).
- ``GET /models?pageNumber&pageSize=20[&search][&status][&project]``, polled: ``pages/models.vue``.
- ``GET /models/projects``, once (60 s dedupe): ``pages/models.vue``; ``status == "APPROVED"`` shows
  "Create Model".
- ``POST /model`` (``partials/models/CreateModelModal.vue``, @2739f4ed), ``PUT /model/{id}`` (the
  model page), ``DELETE /model/{id}`` (``partials/models/EditModelDrawer.vue``, @2739f4ed).

The web app never calls ``GET /model/{id}``, ``GET /model/{id}/status``, ``PATCH
/model/{id}/status/{status}`` (its stop button is flip-api's ``POST /fl/stop/{id}``), ``GET
/model/{id}/trusts`` or ``DELETE /project/{id}/models``; its calls to flip-api's routes on the same
pages (``/fl/initiate/{id}``, ``/fl/stop/{id}``, ``/projects/{id}/models``, ``/files/...``) go
through the greedy proxy (``FlipApiUrl``; tests/local/test_flip_api_proxy.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from flip_local.demo import DEMO_USERS, DemoSummary, seed_demo
from flip_models.store.tables import FLLogs
from tests.api_events import ApiResponse, api_event, invoke
from tests.template.test_template import functions

READERS = ("admin", "owner", "researcher", "viewer")
#: The statuses the web app knows (``ModelStatus`` in model-service.ts).
STATUSES = {
    "PENDING",
    "INITIATED",
    "PREPARED",
    "RUNNING",
    "RESULTS_UPLOADED",
    "RESULTS_UPLOAD_FAILED",
    "ERROR",
    "STOPPED",
}


def _routes() -> list[tuple[str, re.Pattern[str], str]]:
    """(METHOD, path pattern, function folder) of every route, from template.yaml."""
    found = []
    for properties in functions().values():
        for event in properties.get("Events", {}).values():
            if event["Type"] == "Api":
                path = event["Properties"]["Path"]
                pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
                folder = properties["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
                found.append((event["Properties"]["Method"].upper(), pattern, folder))
    return found


def web_app(role: str, method: str, url: str, body: Any = None) -> ApiResponse:
    """The web app's request, as API Gateway hands it to the function the template routes it to.

    The query string is split as API Gateway does (a repeated name keeps its last value; ``a,b`` is
    one value), and its values are percent-decoded.
    """
    split = urlsplit(url)
    # API Gateway's precedence: a literal segment wins over a parameter (/model/job-types).
    for verb, pattern, folder in sorted(_routes(), key=lambda route: route[1].pattern.count("(?P<")):
        match = pattern.match(split.path)
        if verb == method and match:
            resource = pattern.pattern.strip("^$")
            resource = re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", resource)
            query = {
                name: values[-1] for name, values in parse_qs(split.query, keep_blank_values=True).items()
            }
            user_id, groups = DEMO_USERS[role]
            path_parameters = match.groupdict() or None
            event = api_event(
                method,
                resource,
                path_parameters,
                user_id=user_id,
                groups=groups,
                query=query or None,
                body=body,
            )
            return invoke(folder, event)
    raise AssertionError(f"no route for {method} {url}")


# --- the types flip-ui declares ---------------------------------------------------------------------


def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def is_date(value: object) -> bool:
    """What ``new Date(value)`` reads: an ISO 8601 date-time."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def optional(check: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is None or check(value)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_str(value: object) -> bool:
    return isinstance(value, str)


def has_types(item: dict[str, Any], fields: dict[str, Callable[[object], bool]]) -> None:
    for name, check in fields.items():
        assert name in item, f"{name} missing from {sorted(item)}"
        assert check(item[name]), f"{name} = {item[name]!r}"


TRUST = {"id": is_uuid, "name": is_str, "code": optional(is_str)}


# --- the calls ---------------------------------------------------------------------------------------


@pytest.fixture
def demo(session: Session, engine: object) -> DemoSummary:
    summary = seed_demo(session)
    session.commit()
    return summary


@pytest.mark.parametrize("role", READERS)
def test_the_model_page(role: str, demo: DemoSummary) -> None:
    response = web_app(role, "POST", f"/step/model/{demo.running_model_id}")  # no body, as the web app

    assert response.status == 200
    body = response.body
    has_types(
        body,
        {
            "modelId": is_uuid,
            "projectId": is_uuid,
            "modelName": is_str,
            "modelDescription": is_str,
            "status": lambda value: value in STATUSES,
            "creationTimestamp": optional(is_date),
            "preparedAt": optional(is_date),
            "runningAt": optional(is_date),
            "trainingStartedAt": optional(is_date),
            "resultsUploadedAt": optional(is_date),
            "queuePosition": optional(is_int),
        },
    )
    assert body["status"] == "RUNNING"
    assert body["query"]  # the project has a cohort query: "Initiate training" is enabled
    has_types(body["query"], {"name": is_str, "query": is_str})
    assert body["files"]
    for file in body["files"]:
        has_types(file, {"id": is_uuid, "name": is_str, "size": is_number, "status": is_str})
    assert all(file["status"] == "COMPLETED" for file in body["files"])
    assert len(body["trusts"]) == 3  # the run's roster
    for trust in body["trusts"]:
        has_types(trust, TRUST)
    assert body["preparedAt"] is not None
    assert body["runningAt"] is not None


def test_the_model_page_of_a_queued_model_shows_its_position(demo: DemoSummary) -> None:
    body = web_app("viewer", "POST", f"/step/model/{demo.queued_model_id}").body

    assert (body["status"], body["queuePosition"], body["trusts"]) == ("PENDING", 1, [])


@pytest.mark.parametrize("role", READERS)
def test_the_timeline(role: str, demo: DemoSummary) -> None:
    response = web_app(role, "GET", f"/model/{demo.running_model_id}/logs")

    assert response.status == 200
    assert isinstance(response.body, list)  # anything else is an empty feed in the web app
    assert response.body
    for log in response.body:
        has_types(
            log,
            {
                "id": is_uuid,
                "modelId": is_uuid,
                "logDate": is_date,
                "success": lambda value: isinstance(value, bool),
                "trustName": optional(is_str),
                "trustCode": optional(is_str),
                "globalRound": optional(is_int),
                "log": is_str,
            },
        )
    assert "X-Prev-Cursor" not in response.headers  # the whole demo feed fits in the newest page


@pytest.mark.parametrize("role", READERS)
def test_the_metrics_card(role: str, demo: DemoSummary) -> None:
    response = web_app(role, "GET", f"/model/{demo.running_model_id}/metrics")

    assert response.status == 200
    assert response.body
    for chart in response.body:
        has_types(chart, {"yLabel": is_str, "xLabel": is_str})
        for series in chart["metrics"]:
            assert is_str(series["seriesLabel"])
            for point in series["data"]:
                has_types(point, {"xValue": is_number, "yValue": is_number})


@pytest.mark.parametrize("role", READERS)
def test_the_round_progress_card(role: str, demo: DemoSummary) -> None:
    response = web_app(role, "GET", f"/model/{demo.running_model_id}/progress")

    assert response.status == 200
    body = response.body
    has_types(
        body,
        {
            "currentRound": optional(is_int),
            "totalRounds": optional(is_int),
            "startedAt": optional(is_date),
            "avgRoundSeconds": optional(is_number),
            "estRemainingSeconds": optional(is_number),
        },
    )
    # The demo run: round 4 of 10 under way, an estimate, one trust dropped out.
    assert (body["currentRound"], body["totalRounds"]) == (4, 10)
    assert body["estRemainingSeconds"] > 0
    states = {}
    for trust in body["trusts"]:
        has_types(
            trust,
            TRUST
            | {
                "state": lambda value: value in ("returned", "training", "dropped"),
                "lastRound": optional(is_int),
                "lastEventAt": optional(is_date),
                "avgRoundSeconds": optional(is_number),
            },
        )
        states[trust["code"]] = trust["state"]
    assert states == {"GSTT": "returned", "UCLH": "training", "KCH": "dropped"}


@pytest.mark.parametrize(
    "query",
    [
        "pageNumber=1&pageSize=20&status=RUNNING,INITIATED",  # the estate view's first load
        f"pageNumber=1&pageSize=20&search={quote('pneumonia resnet')}&status=RUNNING,INITIATED",
        "pageNumber=1&pageSize=20&project={project}",  # scoped to a project: no status tiles
        "pageNumber=2&pageSize=20",
    ],
)
@pytest.mark.parametrize("role", READERS)
def test_the_models_list(role: str, query: str, demo: DemoSummary) -> None:
    response = web_app(role, "GET", "/models?" + query.format(project=demo.project_id))

    assert response.status == 200
    body = response.body
    has_types(body, {"page": is_int, "totalPages": is_int, "totalRecords": is_int})
    assert all(status in STATUSES and is_int(count) for status, count in body["statusCounts"].items())
    for row in body["data"]:
        has_types(
            row,
            {
                "id": is_uuid,
                "name": is_str,
                "description": is_str,
                "status": lambda value: value in STATUSES,
                "projectId": is_uuid,
                "projectName": is_str,
                "ownerId": is_uuid,
                "ownerName": optional(is_str),
                "creationTimestamp": is_date,
                "queuePosition": optional(is_int),
            },
        )
        for trust in row["trusts"]:
            has_types(trust, TRUST)
    if query.startswith("pageNumber=1") and "search" not in query:
        shown = {row["id"]: row for row in body["data"]}
        running = shown[str(demo.running_model_id)]
        assert running["ownerName"] == "Rhea Researcher"
        assert len(running["trusts"]) == 3


@pytest.mark.parametrize("role", READERS)
def test_the_project_filter_and_the_create_model_button(role: str, demo: DemoSummary) -> None:
    response = web_app(role, "GET", "/models/projects")

    assert response.status == 200
    assert response.body == [
        {"id": str(demo.project_id), "name": "Demo: chest X-ray pneumonia classifier", "status": "APPROVED"}
    ]


def test_a_stranger_sees_no_project_and_no_model(demo: DemoSummary) -> None:
    assert web_app("stranger", "GET", "/models/projects").body == []
    assert web_app("stranger", "GET", "/models?pageNumber=1&pageSize=20").body["data"] == []


@pytest.mark.parametrize("role", ["admin", "owner", "researcher"])
def test_create_edit_and_delete_as_the_web_app_does(role: str, demo: DemoSummary) -> None:
    created = web_app(
        role,
        "POST",
        "/model",
        {"name": "Web app model", "description": "", "projectId": str(demo.project_id)},
    )
    assert created.status == 201
    model_id = created.body["id"]  # all the web app reads
    assert is_uuid(model_id)

    edited = web_app(role, "PUT", f"/model/{model_id}", {"name": "Renamed", "description": "Tuned"})
    page = web_app(role, "POST", f"/step/model/{model_id}").body
    deleted = web_app(role, "DELETE", f"/model/{model_id}")

    assert edited.status == 204
    assert (page["modelName"], page["modelDescription"]) == ("Renamed", "Tuned")
    assert deleted.status == 204


@pytest.mark.parametrize("role", READERS)
def test_the_job_types_the_model_page_looks_up(role: str, demo: DemoSummary) -> None:
    """A job type → its required files; the page falls back to ``standard`` for a type it lacks, and
    to a hard-coded ``standard`` list only when this call fails (so it must not)."""
    response = web_app(role, "GET", "/model/job-types")

    assert response.status == 200
    job_types = response.body
    assert isinstance(job_types, dict)
    assert all(is_str(name) and files and all(is_str(f) for f in files) for name, files in job_types.items())
    assert {"trainer.py", "config.json", "models.py"} <= set(job_types["standard"])
    assert {"standard", "evaluation", "fed_opt"} <= set(job_types)


def test_the_timeline_of_a_long_run_shows_its_newest_line(session: Session, demo: DemoSummary) -> None:
    """The done-when of issue 24: a 2,500-row run's newest line is in the web app's poll (which sends
    no query string and follows no link)."""
    newest_before = session.scalar(
        select(func.max(FLLogs.log_date)).where(FLLogs.model_id == demo.running_model_id)
    )
    assert newest_before is not None
    session.execute(
        insert(FLLogs),
        [
            {
                "id": uuid.uuid4(),
                "model_id": demo.running_model_id,
                "log": f"epoch line {n}",
                "success": True,
                "log_date": newest_before + timedelta(milliseconds=n + 1),
            }
            for n in range(2500)
        ],
    )
    session.commit()

    feed = web_app("viewer", "GET", f"/model/{demo.running_model_id}/logs").body

    assert feed[-1]["log"] == "epoch line 2499"
    assert [row["log"] for row in feed[-3:]] == ["epoch line 2497", "epoch line 2498", "epoch line 2499"]
