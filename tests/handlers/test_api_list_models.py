"""GET /models: visibility, newest first, paging, search, status and project filters, statusCounts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from flip_models.enums import JobStatus, ModelStatus
from tests.api_events import ApiResponse, Person
from tests.builders import Given
from tests.handlers.api_world import World, assert_error, build_world

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ZERO_COUNTS = dict.fromkeys((s.value for s in ModelStatus), 0)


def list_models(caller: Person, **query: str) -> ApiResponse:
    return caller.call("list_models", "GET", "/models", query=query or None)


def names(response: ApiResponse) -> list[str]:
    assert response.status == 200, response.raw_body
    return [row["name"] for row in response.body["data"]]


def seeded(given: Given) -> World:
    """The world's model (PENDING, oldest) plus four more models at known times."""
    world = build_world(given)
    world.model.name = "Alpha pending"
    world.model.creation_timestamp = T0
    given.session.commit()
    world.another_model(name="Beta running", status=ModelStatus.RUNNING, created=T0 + timedelta(hours=1))
    world.another_model(
        name="Gamma 100%_done", status=ModelStatus.RESULTS_UPLOADED, created=T0 + timedelta(hours=2)
    )
    world.another_model(name="Delta stopped", status=ModelStatus.STOPPED, created=T0 + timedelta(hours=3))
    world.another_model(name="Epsilon deleted", deleted=True, created=T0 + timedelta(hours=4))
    return world


def test_row_shape_field_by_field(given: Given) -> None:
    world = build_world(given)

    response = list_models(world.viewer)

    assert response.status == 200
    body = response.body
    assert list(body) == ["page", "pageSize", "totalPages", "totalRecords", "data", "statusCounts"]
    assert (body["page"], body["pageSize"], body["totalPages"], body["totalRecords"]) == (1, 20, 1, 1)
    model = world.model
    assert body["data"] == [
        {
            "id": str(model.id),
            "name": model.name,
            "description": "",
            "status": "PENDING",
            "projectId": str(world.project.id),
            "projectName": world.project.name,
            "ownerId": str(world.researcher.user_id),
            "ownerName": None,  # no user_profile row
            "creationTimestamp": model.creation_timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "trusts": [],  # no run yet: the web app says "Trusts assigned when training starts"
            "queuePosition": None,
        }
    ]
    assert body["statusCounts"] == ZERO_COUNTS | {"PENDING": 1}


def test_newest_first_without_deleted_models_or_deleted_projects(given: Given) -> None:
    world = seeded(given)
    gone = given.project(world.owner.user_id, deleted=True)
    given.model(gone, name="In a deleted project")

    assert names(list_models(world.admin)) == [
        "Delta stopped",
        "Gamma 100%_done",
        "Beta running",
        "Alpha pending",
    ]


@pytest.mark.parametrize("role", ["admin", "owner", "researcher", "colleague", "viewer"])
def test_who_sees_the_project_models(role: str, given: Given) -> None:
    world = seeded(given)

    assert len(names(list_models(world.people[role]))) == 4


def test_only_models_the_caller_may_read(given: Given) -> None:
    world = seeded(given)
    own = given.project(world.stranger.user_id, trusts=world.trusts)
    given.model(own, name="Stranger's own")
    shared = given.project(access=[world.stranger.user_id])
    given.model(shared, name="Shared with the stranger")
    given.model(given.project(), name="Nobody's business")

    assert sorted(names(list_models(world.stranger))) == ["Shared with the stranger", "Stranger's own"]
    assert "Nobody's business" in names(list_models(world.admin))


def test_paging(given: Given) -> None:
    world = seeded(given)

    first = list_models(world.admin, pageSize="3").body
    second = list_models(world.admin, pageSize="3", pageNumber="2").body
    beyond = list_models(world.admin, pageSize="3", pageNumber="9").body

    assert [r["name"] for r in first["data"]] == ["Delta stopped", "Gamma 100%_done", "Beta running"]
    assert [r["name"] for r in second["data"]] == ["Alpha pending"]
    assert (first["page"], first["pageSize"], first["totalPages"], first["totalRecords"]) == (1, 3, 2, 4)
    assert (second["page"], second["totalPages"], second["totalRecords"]) == (2, 2, 4)
    assert (beyond["data"], beyond["page"], beyond["totalRecords"]) == ([], 9, 4)


@pytest.mark.parametrize(
    ("query", "page", "size"),
    [
        ({"pageNumber": "0", "pageSize": "0"}, 1, 20),
        ({"pageNumber": "-3", "pageSize": "-1"}, 1, 20),
        ({"pageSize": "1000"}, 1, 100),
        ({"pageSize": "100"}, 1, 100),
    ],
)
def test_page_defaults_and_cap(query: dict[str, str], page: int, size: int, given: Given) -> None:
    world = seeded(given)

    body = list_models(world.admin, **query).body

    assert (body["page"], body["pageSize"]) == (page, size)


def test_a_page_number_that_is_not_a_number_is_422(given: Given) -> None:
    world = build_world(given)

    assert_error(list_models(world.admin, pageNumber="two"), 422, field="pageNumber")


def test_search_is_case_insensitive_on_model_or_project_name(given: Given) -> None:
    world = seeded(given)
    other = given.project(world.owner.user_id)
    other.name = "Retina study"
    given.session.commit()
    given.model(other, name="Unrelated name")

    assert names(list_models(world.admin, search="BETA")) == ["Beta running"]
    assert names(list_models(world.admin, search="retina")) == ["Unrelated name"]
    assert names(list_models(world.admin, search="  ")) == names(list_models(world.admin))


@pytest.mark.parametrize(
    ("search", "found"), [("%", ["Gamma 100%_done"]), ("_", ["Gamma 100%_done"]), ("a%d", [])]
)
def test_search_treats_like_wildcards_literally(search: str, found: list[str], given: Given) -> None:
    world = seeded(given)

    assert names(list_models(world.admin, search=search)) == found


def test_status_filter_and_counts_that_ignore_it(given: Given) -> None:
    world = seeded(given)

    body = list_models(world.admin, status="RUNNING,STOPPED").body

    assert [r["name"] for r in body["data"]] == ["Delta stopped", "Beta running"]
    assert body["totalRecords"] == 2
    assert body["statusCounts"] == ZERO_COUNTS | {
        "PENDING": 1,
        "RUNNING": 1,
        "RESULTS_UPLOADED": 1,
        "STOPPED": 1,
    }


def test_counts_follow_search_access_and_project(given: Given) -> None:
    world = seeded(given)
    given.model(given.project(), name="Beta elsewhere", status=ModelStatus.ERROR)

    body = list_models(world.viewer, search="beta", status="PENDING").body

    assert body["data"] == []
    assert body["totalRecords"] == 0
    assert body["statusCounts"] == ZERO_COUNTS | {"RUNNING": 1}


def test_status_filter_accepts_spaces_and_the_legacy_name(given: Given) -> None:
    world = seeded(given)

    assert names(list_models(world.admin, status=" PENDING , TRAINING_STARTED ")) == [
        "Beta running",
        "Alpha pending",
    ]


@pytest.mark.parametrize("status", ["BOGUS", "RUNNING,NOPE"])
def test_an_unknown_status_filter_is_400(status: str, given: Given) -> None:
    world = seeded(given)

    body = assert_error(list_models(world.admin, status=status), 400, field="status")

    assert "invalid model status filter" in body["message"]


def test_project_filter(given: Given) -> None:
    world = seeded(given)
    other = given.project(world.owner.user_id)
    given.model(other, name="Other project's")

    body = list_models(world.owner, project=str(other.id)).body

    assert [r["name"] for r in body["data"]] == ["Other project's"]
    assert body["statusCounts"] == ZERO_COUNTS | {"PENDING": 1}


def test_project_filter_missing_is_404_forbidden_is_403_bad_is_400(given: Given) -> None:
    world = seeded(given)
    gone = given.project(world.owner.user_id, deleted=True)

    assert_error(list_models(world.admin, project=str(uuid.uuid4())), 404)
    assert_error(list_models(world.admin, project=str(gone.id)), 404)
    assert_error(list_models(world.stranger, project=str(world.project.id)), 403)
    assert_error(list_models(world.admin, project="nope"), 400, field="project")


def test_project_filter_tolerates_spaces_and_blank_means_none_as_in_flip(given: Given) -> None:
    """Mirrors flip-api's tests/unit/model_services/test_get_all_models_params.py, TestParseProjectId:
    ``test_absent_or_blank_means_no_filter``, ``test_parses_a_uuid_and_tolerates_surrounding_whitespace``,
    ``test_rejects_a_malformed_id_rather_than_ignoring_it`` and ``test_rejects_a_numeric_id`` (400)."""
    world = seeded(given)
    other = given.project(world.owner.user_id)
    given.model(other, name="Other project's")
    everything = names(list_models(world.owner))

    assert names(list_models(world.owner, project=f"  {other.id}  ")) == ["Other project's"]
    assert names(list_models(world.owner, project="")) == everything
    assert names(list_models(world.owner, project="   ")) == everything
    for malformed in ("not-a-uuid", "42", f"{other.id}x"):
        body = assert_error(list_models(world.owner, project=malformed), 400, field="project")
        assert "UUID" in body["message"]


def test_rows_carry_the_owners_name_the_runs_roster_and_the_queue_position(given: Given) -> None:
    world = build_world(given)
    given.profile(world.researcher.user_id, "Rhea Researcher")
    given.job(world.model, status=JobStatus.QUEUED, roster=world.trusts[1:])

    row = list_models(world.viewer).body["data"][0]

    kch = world.trusts[1]
    assert row["ownerName"] == "Rhea Researcher"
    assert row["trusts"] == [{"id": str(kch.id), "name": kch.name, "code": kch.code}]
    assert row["queuePosition"] == 1
