"""GET /model/job-types: the manifest of the FL backend the nets report, as FLIP serves it.

Mirrors flip-api's tests/unit/model_services/test_get_job_types.py
(``test_get_job_types_endpoint_returns_manifest_for_resolved_backend``: the backend is resolved from
the database and that backend's manifest is returned; ``test_get_job_types_route_requires_authentication``:
a token-gated read) and FLIP's ``resolve_backend`` (fl_scheduler_service.py: the nets' ``fl_backend``;
no net → an error).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from sqlalchemy import delete

from flip_models.core.job_types import MANIFEST_DIR, shipped_manifest
from flip_models.enums import FLBackend
from flip_models.store.settings import get_settings
from flip_models.store.tables import FLNets
from tests.api_events import ApiResponse, Person, api_event, invoke
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world

#: FLIP's manifests (fl-apps/<backend>/required_files.json), as shipped in the layer.
NVFLARE = {
    "diffusion_model": ["trainer.py", "validator.py", "config.json", "models.py"],
    "diffusion_model_client_api": ["trainer.py", "validator.py", "config.json", "models.py"],
    "evaluation": ["config.json", "evaluator.py"],
    "evaluation_client_api": ["evaluator.py", "config.json", "models.py"],
    "fed_opt": ["trainer.py", "validator.py", "config.json", "models.py"],
    "standard": ["trainer.py", "validator.py", "config.json", "models.py"],
    "standard_client_api": ["trainer.py", "config.json", "models.py"],
}
FLOWER = {
    "evaluation": ["client_app.py", "config.json", "models.py"],
    "standard": ["client_app.py", "config.json", "models.py"],
}
PARAMETER = "/flip/job-types"


def job_types(caller: Person) -> ApiResponse:
    return caller.call("get_job_types", "GET", "/model/job-types")


def only_nets(given: Given, *backends: FLBackend) -> None:
    """Replace the world's nets with one net per backend given (named net-a, net-b, … in order)."""
    given.session.execute(delete(FLNets))
    given.session.commit()
    for letter, backend in zip("abcdefgh", backends, strict=False):
        given.net(backend, name=f"net-{letter}")


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """moto's SSM, the function's JOB_TYPES_PARAMETER set to PARAMETER, Powertools' cache emptied."""
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("JOB_TYPES_PARAMETER", PARAMETER)
    get_settings.cache_clear()
    parameters.clear_caches()
    with mock_aws():
        yield boto3.client("ssm")
    parameters.clear_caches()
    monkeypatch.delenv("JOB_TYPES_PARAMETER")
    get_settings.cache_clear()


def test_the_shipped_manifests_are_flips() -> None:
    assert json.loads((MANIFEST_DIR / "nvflare" / "required_files.json").read_text()) == NVFLARE
    assert json.loads((MANIFEST_DIR / "flower" / "required_files.json").read_text()) == FLOWER
    assert shipped_manifest(FLBackend.NVFLARE) == NVFLARE
    assert shipped_manifest(FLBackend.FLOWER) == FLOWER


@pytest.mark.parametrize(("backend", "manifest"), [(FLBackend.NVFLARE, NVFLARE), (FLBackend.FLOWER, FLOWER)])
def test_the_manifest_of_the_backend_the_nets_report(
    backend: FLBackend, manifest: dict[str, list[str]], given: Given
) -> None:
    world = build_world(given)
    only_nets(given, backend, backend)

    response = job_types(world.viewer)

    assert response.status == 200, response.raw_body
    assert response.body == manifest
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("role", ["admin", "owner", "researcher", "viewer", "stranger"])
def test_any_signed_in_user_reads_it_and_nobody_else(role: str, given: Given) -> None:
    world = build_world(given)

    assert job_types(world.people[role]).body == NVFLARE
    assert_error(invoke("get_job_types", api_event("GET", "/model/job-types")), 401)


def test_nets_reporting_both_backends_serve_the_first_nets_by_name(
    given: Given, caplog: pytest.LogCaptureFixture
) -> None:
    """FLIP takes whichever net the database returns first (all nets run one backend); here the
    first by name, so the answer does not change from one call to the next, and a warning."""
    world = build_world(given)
    only_nets(given, FLBackend.FLOWER, FLBackend.NVFLARE)

    assert job_types(world.viewer).body == FLOWER
    assert "more than one FL backend" in caplog.text


def test_no_net_is_a_misconfiguration_answered_500_without_detail(given: Given) -> None:
    """FLIP's resolve_backend raises ValueError when no net is registered (a 500)."""
    world = build_world(given)
    only_nets(given)

    body = assert_error(job_types(world.viewer), 500)

    assert "misconfigured" in body["message"]
    assert "fl_nets" not in body["message"]


def test_an_ssm_parameter_replaces_the_manifest_of_the_backends_it_names(ssm: object, given: Given) -> None:
    own = {"standard": ["client_app.py"], "segmentation": ["client_app.py", "unet.py"]}
    boto3.client("ssm").put_parameter(Name=PARAMETER, Type="String", Value=json.dumps({"FLOWER": own}))
    world = build_world(given)

    only_nets(given, FLBackend.FLOWER)
    assert job_types(world.viewer).body == own
    only_nets(given, FLBackend.NVFLARE)  # not in the parameter: the shipped manifest
    assert job_types(world.viewer).body == NVFLARE


def test_the_parameter_is_cached_by_the_container(ssm: object, given: Given) -> None:
    client = boto3.client("ssm")
    client.put_parameter(Name=PARAMETER, Type="String", Value=json.dumps({"NVFLARE": {"a": ["a.py"]}}))
    world = build_world(given)
    assert job_types(world.viewer).body == {"a": ["a.py"]}

    client.put_parameter(
        Name=PARAMETER, Type="String", Value=json.dumps({"NVFLARE": {"b": ["b.py"]}}), Overwrite=True
    )

    assert job_types(world.viewer).body == {"a": ["a.py"]}  # within JOB_TYPES_MAX_AGE_SECONDS
    parameters.clear_caches()
    assert job_types(world.viewer).body == {"b": ["b.py"]}


@pytest.mark.parametrize(
    "value",
    [
        None,  # the parameter does not exist
        "not json",
        json.dumps(["standard"]),
        json.dumps({"NVFLAR": {"standard": ["trainer.py"]}}),
        json.dumps({"NVFLARE": {"standard": "trainer.py"}}),
        json.dumps({"NVFLARE": {"standard": [1]}}),
    ],
)
def test_a_bad_parameter_is_a_misconfiguration_answered_500_without_detail(
    value: str | None, ssm: object, given: Given
) -> None:
    if value is not None:
        boto3.client("ssm").put_parameter(Name=PARAMETER, Type="String", Value=value)
    world = build_world(given)

    body = assert_error(job_types(world.viewer), 500)

    assert PARAMETER not in body["message"]
    assert "JOB_TYPES_PARAMETER" not in body["message"]


def test_ssm_unreachable_is_503(monkeypatch: pytest.MonkeyPatch, given: Given) -> None:
    monkeypatch.setenv("JOB_TYPES_PARAMETER", PARAMETER)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    get_settings.cache_clear()
    parameters.clear_caches()
    try:
        world = build_world(given)
        response = job_types(world.viewer)
    finally:
        parameters.clear_caches()
        monkeypatch.delenv("JOB_TYPES_PARAMETER")
        get_settings.cache_clear()

    assert_error(response, 503)
    assert response.headers["Retry-After"]
