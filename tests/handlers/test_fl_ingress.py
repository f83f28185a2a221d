"""The FL ingress (SPEC §10): FLIP's internal routes, FLIP's answers, and a 2xx only once the message
is in its queue (moto here; the local stack's test drives it against LocalStack with FLIP's sender)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from sqlalchemy.orm import Session

from flip_local.demo import seed_demo
from flip_models.enums import ModelStatus
from flip_models.fl.ingress import FOUND, KEY_INVALID, KEY_MISSING, KEY_NOT_CONFIGURED, MAX_BODY_BYTES
from flip_models.fl.messages import FLLogMessage, FLMetricMessage, FLStatusMessage
from flip_models.store.settings import get_settings
from flip_models.store.tables import Model, Trust
from tests.builders import Given
from tests.lambda_support import ROOT, lambda_context, load_function

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

KEY = "k" * 43
OLD_KEY = "an-older-key-still-accepted-during-rotation"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    raw: str

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


@dataclass
class Ingress:
    client: SQSClient
    urls: dict[str, str]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw_body: str | None = None,
        key: str | None = KEY,
        headers: dict[str, str] | None = None,
        base64_encoded: bool = False,
    ) -> Answer:
        """The REST proxy event API Gateway gives the function for ``method path`` (``/api/…``)."""
        sent = {"User-Agent": "python-requests/2.32.3", "Accept": "*/*", "Connection": "keep-alive"}
        text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
        if text is not None:
            sent["Content-Type"] = "application/json"
        if key is not None:
            sent["X-Internal-Service-Key"] = key
        sent.update(headers or {})
        event = {
            "resource": "/api/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": sent,
            "multiValueHeaders": {name: [value] for name, value in sent.items()},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "stage": "dev",
                "requestId": str(uuid.uuid4()),
                "resourcePath": "/api/{proxy+}",
                "httpMethod": method,
                "path": f"/dev{path}",
                "identity": {"sourceIp": "10.0.1.20", "userAgent": sent["User-Agent"]},
            },
            "body": text,
            "isBase64Encoded": base64_encoded,
        }
        result = load_function("fl_ingress").lambda_handler(event, lambda_context())
        headers_out = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers_out.setdefault(name, ",".join(values))
        return Answer(result["statusCode"], headers_out, result.get("body") or "")

    def messages(self, queue: str) -> list[dict[str, Any]]:
        """Every message now in ``queue`` (logs, metrics, status): body parsed, and the FIFO fields."""
        found = []
        while True:
            response = self.client.receive_message(
                QueueUrl=self.urls[queue],
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["All"],
                VisibilityTimeout=60,
            )
            if not response.get("Messages"):
                return found
            for message in response["Messages"]:
                attributes = message.get("Attributes", {})
                found.append(
                    {
                        "body": json.loads(message["Body"]),
                        "group": attributes.get("MessageGroupId"),
                        "dedup": attributes.get("MessageDeduplicationId"),
                    }
                )

    def nothing_enqueued(self) -> bool:
        return all(not self.messages(queue) for queue in self.urls)


@pytest.fixture
def ingress(aws: SQSClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ingress]:
    urls = {
        "logs": aws.create_queue(QueueName="fl-logs-test")["QueueUrl"],
        "metrics": aws.create_queue(QueueName="fl-metrics-test")["QueueUrl"],
        "status": aws.create_queue(QueueName="fl-status-test.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ],
    }
    monkeypatch.setenv("FL_LOGS_QUEUE_URL", urls["logs"])
    monkeypatch.setenv("FL_METRICS_QUEUE_URL", urls["metrics"])
    monkeypatch.setenv("FL_STATUS_QUEUE_URL", urls["status"])
    monkeypatch.setenv("INTERNAL_SERVICE_KEY_HASH", f"{sha256(KEY)},{sha256(OLD_KEY)}")
    get_settings.cache_clear()
    FOUND.clear()
    yield Ingress(aws, urls)
    FOUND.clear()
    get_settings.cache_clear()


@dataclass
class World:
    model: Model
    trust: Trust
    other_trust: Trust


@pytest.fixture
def world(given: Given) -> World:
    """A running model with Trust_1's trust; Trust_2 is a trust of another model; Trust_9 an
    unassigned slot."""
    trust = given.trust(code="GSTT", name="Guy's", slot="Trust_1")
    other = given.trust(code="UCLH", name="UCLH", slot="Trust_2")
    given.slot("Trust_9")
    return World(given.model(status=ModelStatus.RUNNING, trusts=[trust]), trust, other)


# --- the three routes, FLIP's answers ---------------------------------------------------------


def test_a_status_is_set_in_the_fifo_queue_with_the_model_as_its_group(
    ingress: Ingress, world: World
) -> None:
    answer = ingress.call("PUT", f"/api/model/{world.model.id}/status/RESULTS_UPLOADED")

    assert (answer.status, answer.body) == (200, {"success": "status set"})
    [message] = ingress.messages("status")
    assert message["group"] == str(world.model.id)
    assert FLStatusMessage.model_validate(message["body"]).status == ModelStatus.RESULTS_UPLOADED
    assert answer.headers["X-FL-Queue"] == "fl-status.fifo"


def test_an_old_images_training_started_is_running(ingress: Ingress, world: World) -> None:
    answer = ingress.call("PUT", f"/api/model/{world.model.id}/status/TRAINING_STARTED")

    assert answer.status == 200
    assert ingress.messages("status")[0]["body"]["status"] == "RUNNING"


def test_without_an_idempotency_key_each_status_request_is_one_message(
    ingress: Ingress, world: World
) -> None:
    for _ in range(2):
        assert ingress.call("PUT", f"/api/model/{world.model.id}/status/RUNNING").status == 200

    messages = ingress.messages("status")
    assert len(messages) == 2
    assert messages[0]["dedup"] != messages[1]["dedup"]
    assert all(message["body"]["event_id"] is None for message in messages)


def test_an_idempotency_key_is_the_messages_key_and_its_fifo_deduplication(
    ingress: Ingress, world: World
) -> None:
    path = f"/api/model/{world.model.id}/status/RUNNING"
    first = ingress.call("PUT", path, headers={"Idempotency-Key": "run-1/RUNNING"})
    again = ingress.call("PUT", path, headers={"idempotency-key": "run-1/RUNNING"})

    assert first.status == again.status == 200
    [message] = ingress.messages("status")  # SQS kept one: same model, key and body
    assert message["body"]["event_id"] == "run-1/RUNNING"


@pytest.mark.parametrize("status", ["FOO", "PENDING", "running%00", ""])
def test_an_unknown_status_is_a_422_naming_it(ingress: Ingress, world: World, status: str) -> None:
    answer = ingress.call("PUT", f"/api/model/{world.model.id}/status/{status}")

    if status == "":  # no such route: the path ends at /status/
        assert answer.status == 404
    else:
        assert answer.status == 422
        assert answer.body["detail"][0]["loc"] == ["path", "model_status"]
    assert ingress.nothing_enqueued()


def test_a_status_for_an_unknown_model_is_flips_404(ingress: Ingress, world: World) -> None:
    unknown = uuid.uuid4()

    answer = ingress.call("PUT", f"/api/model/{unknown}/status/RUNNING")

    assert (answer.status, answer.body) == (404, {"detail": f"Model ID: {unknown} does not exist"})
    assert ingress.nothing_enqueued()


def test_a_model_id_that_is_no_uuid_is_a_422(ingress: Ingress) -> None:
    answer = ingress.call("PUT", "/api/model/not-a-uuid/status/RUNNING")

    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["path", "model_id"]


def test_a_clients_text_is_created(ingress: Ingress, world: World) -> None:
    body = {"fl_client_name": "Trust_1", "log": "Traceback …", "success": False}

    answer = ingress.call("POST", f"/api/model/{world.model.id}/logs", body)

    assert (answer.status, answer.body) == (200, {"detail": "Created"})
    [message] = ingress.messages("logs")
    sent = FLLogMessage.model_validate(message["body"])
    assert (sent.model_id, sent.fl_client_name, sent.log, sent.success) == (
        world.model.id,
        "Trust_1",
        "Traceback …",
        False,
    )


@pytest.mark.parametrize(
    "body",
    [
        {
            "fl_client_name": None,
            "event_type": "ROUND_STARTED",
            "global_round": 1,
            "details": {"total_rounds": 5},
        },
        {
            "fl_client_name": "Trust_1",
            "event_type": "CLIENT_RESULT_RECEIVED",
            "global_round": 1,
            "details": None,
        },
        {
            "fl_client_name": "Trust_1",
            "event_type": "JOB_WAITING_FOR_RESOURCES",
            "global_round": None,
            "details": {"attempt": 1, "max_attempts": 5, "final": False, "requested": {"gpus": 1}},
        },
        {"event_type": "ROUND_AGGREGATED", "global_round": 1, "details": {"returned": 1, "expected": 1}},
        {
            "fl_client_name": None,
            "log": "hub line",
            "event_type": None,
            "global_round": None,
            "details": None,
        },
    ],
)
def test_every_event_kind_of_the_real_senders_is_created(
    ingress: Ingress, world: World, body: dict[str, Any]
) -> None:
    answer = ingress.call("POST", f"/api/model/{world.model.id}/logs", body)

    assert answer.status == 200, answer.body
    assert len(ingress.messages("logs")) == 1


def test_metrics_are_a_204_without_a_body(ingress: Ingress, world: World) -> None:
    body = {"fl_client_name": "Trust_1", "global_round": 0, "label": "LOSS_FUNCTION", "result": 0.25}

    answer = ingress.call("POST", f"/api/model/{world.model.id}/metrics", body)

    assert (answer.status, answer.raw) == (204, "")
    [message] = ingress.messages("metrics")
    sent = FLMetricMessage.model_validate(message["body"])
    assert (sent.x_label, sent.x_value, sent.label) == ("Global Round", 0.0, "LOSS_FUNCTION")


def test_flowers_metrics_keep_their_own_x_axis(ingress: Ingress, world: World) -> None:
    body = {
        "fl_client_name": "Trust_1",
        "global_round": 2,
        "label": "TRAIN_LOSS",
        "result": 0.5,
        "x_label": "epoch",
        "x_value": 7,
    }

    assert ingress.call("POST", f"/api/model/{world.model.id}/metrics", body).status == 204
    assert ingress.messages("metrics")[0]["body"]["x_label"] == "epoch"


# --- FLIP's 400s and 404s: checked before anything is enqueued --------------------------------


@pytest.mark.parametrize("route", ["logs", "metrics"])
def test_a_client_that_resolves_to_no_trust_is_flips_400(ingress: Ingress, world: World, route: str) -> None:
    body: dict[str, Any] = {"fl_client_name": "Trust_9", "global_round": 1, "label": "LOSS", "result": 1.0}
    if route == "logs":
        body = {"fl_client_name": "Trust_9", "event_type": "CLIENT_RESULT_RECEIVED", "global_round": 1}

    answer = ingress.call("POST", f"/api/model/{world.model.id}/{route}", body)

    assert answer.status == 400
    assert answer.body == {
        "detail": f"FL client 'Trust_9' could not be resolved to a trust (model: {world.model.id})"
    }
    assert ingress.nothing_enqueued()


@pytest.mark.parametrize("route", ["logs", "metrics"])
def test_a_trust_not_on_the_model_is_flips_400(ingress: Ingress, world: World, route: str) -> None:
    body: dict[str, Any] = {"fl_client_name": "Trust_2", "global_round": 1, "label": "LOSS", "result": 1.0}
    if route == "logs":
        body = {"fl_client_name": "Trust_2", "log": "all fine"}

    answer = ingress.call("POST", f"/api/model/{world.model.id}/{route}", body)

    assert answer.status == 400
    assert answer.body == {"detail": f"The trust: UCLH is not associated with model: {world.model.id}"}
    assert ingress.nothing_enqueued()


@pytest.mark.parametrize("client", ["Trust_2", "Trust_9", "nobody-at-all"])
def test_a_failed_clients_text_is_accepted_whoever_the_client_is(
    ingress: Ingress, world: World, client: str
) -> None:
    body = {"fl_client_name": client, "log": "Traceback (most recent call last): …", "success": False}

    answer = ingress.call("POST", f"/api/model/{world.model.id}/logs", body)

    assert (answer.status, answer.body) == (200, {"detail": "Created"})  # kept as an unattributed row
    assert len(ingress.messages("logs")) == 1


@pytest.mark.parametrize("route", ["logs", "metrics"])
def test_an_unknown_model_is_a_404_not_flips_500(ingress: Ingress, world: World, route: str) -> None:
    unknown = uuid.uuid4()
    body = {"fl_client_name": "Trust_1", "global_round": 1, "label": "LOSS", "result": 1.0, "log": "x"}
    if route == "metrics":
        del body["log"]

    answer = ingress.call("POST", f"/api/model/{unknown}/{route}", body)

    assert (answer.status, answer.body) == (404, {"detail": f"Model ID: {unknown} does not exist"})
    assert ingress.nothing_enqueued()


def test_a_found_model_is_kept_for_a_while_a_missing_one_is_asked_again(
    ingress: Ingress, world: World
) -> None:
    unknown = uuid.uuid4()

    assert ingress.call("PUT", f"/api/model/{unknown}/status/RUNNING").status == 404
    assert ingress.call("PUT", f"/api/model/{world.model.id}/status/RUNNING").status == 200
    assert FOUND.get((unknown, None)) is None
    assert FOUND.get((world.model.id, None)) is not None


# --- bodies that fail §5's validation: 422 naming the field -----------------------------------


@pytest.mark.parametrize(
    ("route", "body", "fields"),
    [
        ("logs", {"fl_client_name": "Trust_1"}, [["body", "log"], ["body", "event_type"]]),
        (
            "logs",
            {"log": "a", "event_type": "ROUND_STARTED", "global_round": 1},
            [["body", "log"], ["body", "event_type"]],
        ),
        ("logs", {"event_type": "QUEUE_POSITION", "global_round": 1}, [["body", "event_type"]]),
        ("logs", {"event_type": "ROUND_STARTED"}, [["body", "global_round"]]),
        ("logs", {"event_type": "ROUND_STARTED", "global_round": 0}, [["body", "global_round"]]),
        ("logs", {"event_type": "ROUND_STARTED", "global_round": 10**30}, [["body", "global_round"]]),
        ("logs", {"event_type": " ", "global_round": 1}, [["body", "event_type"]]),
        ("logs", {"event_type": "E" * 65, "global_round": 1}, [["body", "event_type"]]),
        ("logs", {"log": "x", "details": {"blob": "x" * 9000}}, [["body", "details"]]),
        ("logs", {"log": "x", "success": "perhaps"}, [["body", "success"]]),
        ("logs", {"log": "a\x00b"}, [["body", "log"]]),
        ("logs", {"log": "x", "event_id": "e" * 513}, [["body", "event_id"]]),
        ("metrics", {"global_round": 1, "label": "L", "result": 1}, [["body", "fl_client_name"]]),
        (
            "metrics",
            {"fl_client_name": "Trust_1", "global_round": -1, "label": "L", "result": 1},
            [["body", "global_round"]],
        ),
        (
            "metrics",
            {"fl_client_name": "Trust_1", "global_round": 1, "label": "", "result": 1},
            [["body", "label"]],
        ),
        (
            "metrics",
            {"fl_client_name": "Trust_1", "global_round": 1, "label": "L", "result": "NaN"},
            [["body", "result"]],
        ),
        ("metrics", {"fl_client_name": "Trust_1", "global_round": 1, "label": "L"}, [["body", "result"]]),
        (
            "metrics",
            {"fl_client_name": "Trust_1", "global_round": 1, "label": "L", "result": 1, "x_label": "x" * 65},
            [["body", "x_label"]],
        ),
    ],
)
def test_a_body_that_breaks_a_rule_is_a_422_naming_the_field(
    ingress: Ingress, world: World, route: str, body: dict[str, Any], fields: list[list[str]]
) -> None:
    answer = ingress.call("POST", f"/api/model/{world.model.id}/{route}", body)

    assert answer.status == 422, answer.body
    assert [item["loc"] for item in answer.body["detail"]] == fields
    assert ingress.nothing_enqueued()


@pytest.mark.parametrize(
    "raw",
    [
        '{"fl_client_name": "Trust_1", "global_round": 1, "label": "L", "result": 1e400}',
        '{"fl_client_name": "Trust_1", "global_round": 1, "label": "L", "result": NaN}',
        '{"fl_client_name": "Trust_1", "global_round": 1, "label": "L", "result": 1, "x_value": -Infinity}',
        '{"fl_client_name": "Trust_1", "global_round": 1' + "0" * 5000 + ', "label": "L", "result": 1}',
    ],
)
def test_numbers_no_float_holds_are_a_422(ingress: Ingress, world: World, raw: str) -> None:
    answer = ingress.call("POST", f"/api/model/{world.model.id}/metrics", raw_body=raw)

    assert answer.status == 422, answer.body
    assert ingress.nothing_enqueued()


# --- hostile input: a 4xx, nothing enqueued ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        ("not json", {}),
        ('{"log": "x"', {}),
        ("[1, 2]", {}),
        ('"text"', {}),
        ("", {}),
        ('{"log": "x"}', {"Content-Type": "text/plain"}),
        ('{"log": "x"}', {"Content-Type": "application/x-www-form-urlencoded"}),
        ("[" * 100_000 + "]" * 100_000, {}),
    ],
)
def test_a_body_that_is_no_json_object_is_a_422(
    ingress: Ingress, world: World, raw: str, headers: dict[str, str]
) -> None:
    answer = ingress.call("POST", f"/api/model/{world.model.id}/logs", raw_body=raw, headers=headers)

    assert answer.status == 422, answer.body
    assert answer.body["detail"][0]["loc"][0] == "body"
    assert ingress.nothing_enqueued()


def test_a_body_over_sqss_limit_is_a_413(ingress: Ingress, world: World) -> None:
    body = {"fl_client_name": "Trust_1", "log": "x" * MAX_BODY_BYTES}

    answer = ingress.call("POST", f"/api/model/{world.model.id}/logs", body)

    assert answer.status == 413
    assert ingress.nothing_enqueued()


def test_a_long_text_within_the_limit_is_sent_cut_and_stays_cut(ingress: Ingress, world: World) -> None:
    body = {"fl_client_name": "Trust_1", "log": "é" * 40_000, "success": False}

    assert ingress.call("POST", f"/api/model/{world.model.id}/logs", body).status == 200
    [message] = ingress.messages("logs")
    sent = message["body"]["log"]
    assert sent.endswith(" … [cut: 7232 more characters]")
    assert FLLogMessage.model_validate(message["body"]).log == sent  # the consumer cuts nothing more


def test_a_base64_body_is_read(ingress: Ingress, world: World) -> None:
    raw = base64.b64encode(json.dumps({"fl_client_name": None, "log": "hub"}).encode()).decode()

    answer = ingress.call("POST", f"/api/model/{world.model.id}/logs", raw_body=raw, base64_encoded=True)

    assert answer.status == 200


def test_an_unknown_path_or_method_is_a_404(ingress: Ingress, world: World) -> None:
    assert ingress.call("GET", f"/api/model/{world.model.id}/logs").status == 404
    assert ingress.call("PUT", f"/model/{world.model.id}/status/RUNNING").status == 404
    assert ingress.nothing_enqueued()


# --- the key: FLIP's three 401s, two hashes during a rotation ---------------------------------


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        (None, KEY_MISSING),
        ("", KEY_MISSING),
        ("wrong", KEY_INVALID),
        (KEY + "x", KEY_INVALID),
        (KEY[:-1], KEY_INVALID),
        ("k" * 10_000, KEY_INVALID),
        (sha256(KEY), KEY_INVALID),  # the hash itself is no key
        ("ключ\ud800", KEY_INVALID),
    ],
)
def test_a_missing_or_wrong_key_is_flips_401(
    ingress: Ingress, world: World, key: str | None, detail: str
) -> None:
    for answer in (
        ingress.call("PUT", f"/api/model/{world.model.id}/status/RUNNING", key=key),
        ingress.call("POST", f"/api/model/{world.model.id}/logs", {"log": "x"}, key=key),
        ingress.call("POST", f"/api/model/{world.model.id}/metrics", raw_body="not json", key=key),
    ):
        assert (answer.status, answer.body) == (401, {"detail": detail})
    assert ingress.nothing_enqueued()


def test_the_key_is_checked_before_anything_else(ingress: Ingress) -> None:
    answer = ingress.call("PUT", "/api/model/not-a-uuid/status/NOPE", key="wrong")

    assert (answer.status, answer.body) == (401, {"detail": KEY_INVALID})


def test_no_hash_configured_is_flips_401(
    ingress: Ingress, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERNAL_SERVICE_KEY_HASH", KEY)  # a key where a hash belongs accepts nothing
    get_settings.cache_clear()

    answer = ingress.call("PUT", f"/api/model/{world.model.id}/status/RUNNING")

    assert (answer.status, answer.body) == (401, {"detail": KEY_NOT_CONFIGURED})


def test_during_a_rotation_the_secret_accepts_both_keys(
    ingress: Ingress, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(
        Name="flip/internal-service-key",
        SecretString=json.dumps(
            {
                "internal_service_key_hash": sha256("new-key"),
                "internal_service_key_hash_previous": sha256(OLD_KEY),
            }
        ),
    )["ARN"]
    monkeypatch.delenv("INTERNAL_SERVICE_KEY_HASH")
    monkeypatch.setenv("INTERNAL_SERVICE_KEY_SECRET_ARN", arn)
    monkeypatch.setenv("INTERNAL_SERVICE_KEY_MAX_AGE_SECONDS", "0")
    get_settings.cache_clear()
    path = f"/api/model/{world.model.id}/status/RUNNING"

    assert ingress.call("PUT", path, key="new-key").status == 200
    assert ingress.call("PUT", path, key=OLD_KEY).status == 200
    assert ingress.call("PUT", path, key=KEY).status == 401
    secrets.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"internal_service_key_hash": sha256("new-key")})
    )
    assert ingress.call("PUT", path, key=OLD_KEY).body == {"detail": KEY_INVALID}  # rotation over


def test_flips_plain_secret_is_read_as_it_is(
    ingress: Ingress, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name="internal_service_key_hash", SecretString=sha256(KEY)
    )["ARN"]
    monkeypatch.delenv("INTERNAL_SERVICE_KEY_HASH")
    monkeypatch.setenv("INTERNAL_SERVICE_KEY_SECRET_ARN", arn)
    get_settings.cache_clear()

    assert ingress.call("PUT", f"/api/model/{world.model.id}/status/RUNNING").status == 200


# --- accepted means in the queue ---------------------------------------------------------------


def test_a_queue_that_refuses_is_a_503_and_no_2xx(
    ingress: Ingress, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FL_LOGS_QUEUE_URL", ingress.urls["logs"] + "-gone")
    get_settings.cache_clear()

    answer = ingress.call("POST", f"/api/model/{world.model.id}/logs", {"log": "x"})

    assert answer.status == 503
    assert answer.headers["Retry-After"] == "5"
    assert ingress.nothing_enqueued()


def test_the_bodys_event_id_wins_over_the_header(ingress: Ingress, world: World) -> None:
    body = {
        "fl_client_name": "Trust_1",
        "global_round": 1,
        "label": "L",
        "result": 1,
        "event_id": "from-body",
    }

    ingress.call(
        "POST", f"/api/model/{world.model.id}/metrics", body, headers={"Idempotency-Key": "from-header"}
    )
    ingress.call(
        "POST",
        f"/api/model/{world.model.id}/metrics",
        {**body, "event_id": None},
        headers={"Idempotency-Key": "from-header"},
    )

    assert [m["body"]["event_id"] for m in ingress.messages("metrics")] == ["from-body", "from-header"]


def test_the_sample_event_is_answered_with_a_204(
    ingress: Ingress, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    """``events/fl_ingress.json``: FLIP's FL server's metric, as API Gateway passes it on (the demo
    data's RUNNING model and kit slot, the local deploy's key ``local-fl-server-key``)."""
    seed_demo(session)
    session.commit()
    monkeypatch.setenv("INTERNAL_SERVICE_KEY_HASH", sha256("local-fl-server-key"))
    get_settings.cache_clear()
    event = json.loads((ROOT / "events" / "fl_ingress.json").read_text())

    result = load_function("fl_ingress").lambda_handler(event, lambda_context())

    assert (result["statusCode"], result.get("body") or "") == (204, "")
    assert len(ingress.messages("metrics")) == 1
