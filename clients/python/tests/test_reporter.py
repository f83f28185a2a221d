"""FLIPReporter against moto's SQS server: what reaches which queue, with which ids, and what never does."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from support import MODEL, Queues, free_port, sqs_client

from flip_fl_reporter import FLIPReporter

OTHER_MODEL = "ca594c82-2ffd-5218-99f7-5b6d67363134"


def count_calls(client: Any) -> list[str]:
    """The SQS operations ``client`` makes from now on, in order."""
    calls: list[str] = []
    client.meta.events.register("before-call.sqs.*", lambda model, **_: calls.append(model.name))
    return calls


def test_each_call_reaches_its_queue_with_its_event_id(queues: Queues) -> None:
    reporter = FLIPReporter(**queues.urls(), sqs_client=queues.client, run_id="job-12")

    assert reporter.update_status(MODEL, "RUNNING") is True
    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS_FUNCTION", 0.25, 0, x_label="Global Rounds") is True
    assert reporter.send_event(MODEL, "CLIENT_RESULT_RECEIVED", 1, {"size_bytes": 10}, "Trust_2") is True
    assert reporter.send_handled_exception(MODEL, "Trust_3", "Traceback: boom") is True

    [status] = queues.received(queues.status)
    assert status["body"]["status"] == "RUNNING"
    assert status["group_id"] == MODEL
    assert status["deduplication_id"] == status["body"]["event_id"]
    [metric] = queues.received(queues.metrics)
    assert metric["body"] == {
        "model_id": MODEL,
        "fl_client_name": "Trust_1",
        "global_round": 0,
        "label": "LOSS_FUNCTION",
        "result": 0.25,
        "x_label": "Global Rounds",
        "event_id": metric["body"]["event_id"],
    }
    logs = sorted((m["body"] for m in queues.received(queues.logs)), key=lambda body: "log" in body)
    assert [(b.get("event_type"), b.get("log"), b["success"], b["fl_client_name"]) for b in logs] == [
        ("CLIENT_RESULT_RECEIVED", None, True, "Trust_2"),
        (None, "Traceback: boom", False, "Trust_3"),
    ]
    assert all(body["event_id"].startswith("flr1-") for body in logs)


def test_statuses_keep_each_models_order(queues: Queues) -> None:
    reporter = FLIPReporter(**queues.urls(), sqs_client=queues.client, run_id="job-12")

    for status in ("INITIATED", "PREPARED", "RUNNING", "RESULTS_UPLOADED"):
        assert reporter.update_status(MODEL, status)
        assert reporter.update_status(OTHER_MODEL, status)

    received = queues.received(queues.status)
    for model in (MODEL, OTHER_MODEL):
        mine = [m for m in received if m["group_id"] == model]
        assert [m["body"]["status"] for m in mine] == ["INITIATED", "PREPARED", "RUNNING", "RESULTS_UPLOADED"]


def test_an_invalid_call_never_leaves_the_process(queues: Queues, caplog: pytest.LogCaptureFixture) -> None:
    reporter = FLIPReporter(**queues.urls(), sqs_client=queues.client)
    calls = count_calls(queues.client)

    with caplog.at_level(logging.WARNING, logger="flip_fl_reporter"):
        assert reporter.send_event(MODEL, "ROUND_STARTED", global_round=None) is False
        assert reporter.update_status(MODEL, "PENDING") is False
        assert reporter.send_metrics("model-7", "Trust_1", "LOSS", 0.5, 1) is False

    assert calls == []
    assert [record.getMessage() for record in caplog.records] == [
        "FL log message not sent: global_round: required when event_type is set",
        "FL status message not sent: status: PENDING is never set by an FL server",
        "FL metric message not sent: model_id: not a valid UUID: 'model-7'",
    ]


def test_a_repeated_call_is_the_same_message(queues: Queues) -> None:
    """Sent twice, it reaches a standard queue twice with one event id (the service applies it once);
    on the FIFO queue, SQS's deduplication keeps one."""
    reporter = FLIPReporter(**queues.urls(), sqs_client=queues.client, run_id="job-12")

    for _ in range(2):
        assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1)
        assert reporter.update_status(MODEL, "RUNNING")

    metrics = queues.received(queues.metrics)
    assert len(metrics) == 2
    assert metrics[0]["text"] == metrics[1]["text"]
    assert len(queues.received(queues.status)) == 1


class Broken:
    """An SQS client (or argument) that fails in ways botocore never would."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"broken: {name}")

    def __float__(self) -> float:
        raise ZeroDivisionError("no value")


def test_nothing_raises_into_the_fl_loop(queues: Queues, tmp_path: Path) -> None:
    for spool_dir in (None, tmp_path / "spool"):
        reporter = FLIPReporter(**queues.urls(), sqs_client=Broken(), spool_dir=spool_dir)

        assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1) is False
        assert reporter.update_status(MODEL, "RUNNING") is False
        assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", Broken(), 1) is False
        assert reporter.send_event(MODEL, "ROUND_STARTED", 1, details={"x": Broken()}) is False
    assert reporter.flush() == 2  # the two valid ones wait in the spool


def test_bad_configuration_is_refused_at_construction(queues: Queues) -> None:
    urls = queues.urls()
    with pytest.raises(ValueError, match="status_queue_url"):
        FLIPReporter(**{**urls, "status_queue_url": queues.logs}, sqs_client=queues.client)
    with pytest.raises(ValueError, match="metrics_queue_url"):
        FLIPReporter(**{**urls, "metrics_queue_url": ""}, sqs_client=queues.client)
    with pytest.raises(ValueError, match="FLIP_FL_STATUS_QUEUE_URL"):
        FLIPReporter.from_environment({"FLIP_FL_LOGS_QUEUE_URL": "a", "FLIP_FL_METRICS_QUEUE_URL": "b"})


def test_the_environment_configures_a_reporter(queues: Queues, tmp_path: Path) -> None:
    reporter = FLIPReporter.from_environment(
        {
            "FLIP_FL_LOGS_QUEUE_URL": queues.logs,
            "FLIP_FL_METRICS_QUEUE_URL": queues.metrics,
            "FLIP_FL_STATUS_QUEUE_URL": queues.status,
            "FLIP_FL_RUN_ID": "job-99",
            "FLIP_FL_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )

    assert reporter.run_id == "job-99"
    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1)  # the default client, from the URL
    assert len(queues.received(queues.metrics)) == 1


README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_says_what_flip_fl_run_id_must_be_unique_per() -> None:
    paragraphs = [" ".join(p.split()) for p in README.read_text(encoding="utf-8").split("\n\n")]
    about_it = [p for p in paragraphs if "FLIP_FL_RUN_ID" in p]

    assert any("must be unique per run: one value per FL job" in p for p in about_it)
    assert any("must be **unique per run**: one value per FL job" in p for p in about_it)


def test_a_flip_fl_run_id_shared_by_two_runs_makes_the_second_runs_messages_duplicates(
    queues: Queues,
) -> None:
    """Why it must be unique per run: a model's second run under the first's FLIP_FL_RUN_ID sends the
    first run's event ids (the FIFO queue drops the second RUNNING); under its own, it arrives."""
    environ = {
        "FLIP_FL_LOGS_QUEUE_URL": queues.logs,
        "FLIP_FL_METRICS_QUEUE_URL": queues.metrics,
        "FLIP_FL_STATUS_QUEUE_URL": queues.status,
    }
    for run_id in ("job-1", "job-1", "job-2"):
        reporter = FLIPReporter.from_environment(
            {**environ, "FLIP_FL_RUN_ID": run_id}, sqs_client=queues.client
        )
        assert reporter.update_status(MODEL, "RUNNING") is True

    received = queues.received(queues.status)
    assert len(received) == 2
    assert len({m["body"]["event_id"] for m in received}) == 2


# --- the spool's flush: batches, partial failures, messages SQS refuses ---------------------------


def unreachable_client() -> Any:
    """A client whose endpoint refuses connections (nothing listens there)."""
    return sqs_client(f"http://127.0.0.1:{free_port()}", attempts=2)


def test_a_flush_sends_what_waits_in_batches_oldest_first(queues: Queues, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    down = FLIPReporter(**queues.urls(), sqs_client=unreachable_client(), run_id="job-12", spool_dir=spool)
    down._clock = lambda: 0.0  # no hold-off for this test: every call tries, and fails
    for round_ in range(23):
        assert down.send_metrics(MODEL, "Trust_1", "LOSS", 1.0 / (round_ + 1), round_) is False
    assert down.update_status(MODEL, "RUNNING") is False
    assert down.update_status(MODEL, "RESULTS_UPLOADED") is False
    assert down.flush() == 25

    up = FLIPReporter(**queues.urls(), sqs_client=queues.client, run_id="job-12", spool_dir=spool)
    calls = count_calls(queues.client)
    assert up.flush() == 0

    assert calls == ["SendMessageBatch"] * 3 + ["SendMessage"] * 2
    rounds = [m["body"]["global_round"] for m in queues.received(queues.metrics)]
    assert sorted(rounds) == list(range(23))
    assert [m["body"]["status"] for m in queues.received(queues.status)] == ["RUNNING", "RESULTS_UPLOADED"]
    assert list(spool.glob("*.json")) == []


def test_failed_entries_of_a_batch_are_sent_again(queues: Queues, tmp_path: Path) -> None:
    reporter = FLIPReporter(**queues.urls(), sqs_client=queues.client, spool_dir=tmp_path / "spool")
    sleeps: list[float] = []
    reporter._sender.sleep = sleeps.append
    with Stubber(queues.client) as stub:
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [],
                "Failed": [
                    {"Id": "0", "SenderFault": False, "Code": "InternalError", "Message": "try again"}
                ],
            },
        )
        stub.add_response(
            "send_message_batch",
            {"Successful": [{"Id": "0", "MessageId": "m1", "MD5OfMessageBody": "x"}], "Failed": []},
        )

        assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1) is True
        stub.assert_no_pending_responses()

    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.4
    assert reporter.flush() == 0


def test_a_message_sqs_refuses_for_good_is_kept_aside_not_retried(queues: Queues, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    reporter = FLIPReporter(**queues.urls(), sqs_client=queues.client, spool_dir=spool)
    with Stubber(queues.client) as stub:
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [],
                "Failed": [
                    {"Id": "0", "SenderFault": True, "Code": "InvalidMessageContents", "Message": "no"}
                ],
            },
        )

        assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1) is False

    assert reporter.flush() == 0
    [kept] = (spool / "rejected").glob("*.json")
    assert "InvalidMessageContents" in (spool / "rejected" / f"{kept.name}.error").read_text()


def test_after_a_failed_call_its_queue_only_spools_until_the_hold_off_ends(
    queues: Queues, tmp_path: Path
) -> None:
    client = unreachable_client()
    reporter = FLIPReporter(**queues.urls(), sqs_client=client, spool_dir=tmp_path / "spool")
    now = [100.0]
    reporter._clock = lambda: now[0]
    calls = count_calls(client)

    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1) is False
    tried = len(calls)
    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 2) is False
    assert len(calls) == tried  # held off: spooled without a call
    now[0] += 2.5
    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 3) is False
    assert len(calls) > tried  # the hold-off (2 s) is over: it tried again
    assert reporter.flush() == 3  # flush() always tries


def test_when_sqs_cannot_be_reached_every_queue_is_held_off(queues: Queues, tmp_path: Path) -> None:
    """No answer at all (nothing listens at the endpoint) is no one queue's failure: the three queues
    share the endpoint, so the other queues' calls only spool too, and an outage costs the FL loop
    one slow call per hold-off, not one per queue."""
    client = unreachable_client()
    reporter = FLIPReporter(**queues.urls(), sqs_client=client, spool_dir=tmp_path / "spool")
    now = [100.0]
    reporter._clock = lambda: now[0]
    calls = count_calls(client)

    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1) is False
    tried = len(calls)
    assert reporter.update_status(MODEL, "RUNNING") is False
    assert reporter.send_event(MODEL, "ROUND_STARTED", 1) is False
    assert len(calls) == tried  # held off: spooled without a call
    assert reporter.flush() == 3


# --- one queue failing never holds up the others ----------------------------------------------------

STATUSES = ("INITIATED", "PREPARED", "RUNNING", "RESULTS_UPLOADED")


def send_to(reporter: FLIPReporter, queue: str, n: int) -> bool:
    """The ``n``-th call (0-based) of a test to ``queue``."""
    if queue == "logs":
        return reporter.send_event(MODEL, "ROUND_STARTED", n + 1)
    if queue == "metrics":
        return reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, n)
    return reporter.update_status(MODEL, STATUSES[n])


def calls_by_queue(client: Any) -> list[str]:
    """The queue URL of each message or batch ``client`` sends from now on, in order."""
    urls: list[str] = []
    for operation in ("SendMessage", "SendMessageBatch"):
        client.meta.events.register(
            f"provide-client-params.sqs.{operation}", lambda params, **_: urls.append(params["QueueUrl"])
        )
    return urls


@pytest.mark.parametrize("failing", ["logs", "metrics", "status"])
def test_a_failing_queue_never_holds_up_the_others(queues: Queues, tmp_path: Path, failing: str) -> None:
    """A missing (or refusing) queue keeps its own messages in the spool, under a hold-off of its own;
    the other queues' messages are sent at once, statuses in order; the waiting ones arrive, in order,
    once the queue is there."""
    urls = queues.urls()
    prefix, name = urls[f"{failing}_queue_url"].rsplit("/", 1)
    missing_name = name.replace("fl-", "gone-fl-")  # a FIFO queue's name still ends in .fifo
    missing = f"{prefix}/{missing_name}"
    reporter = FLIPReporter(
        **{**urls, f"{failing}_queue_url": missing},
        sqs_client=queues.client,
        run_id="job-12",
        spool_dir=tmp_path / "spool",
    )
    now = [100.0]
    reporter._clock = lambda: now[0]
    others = [queue for queue in ("logs", "metrics", "status") if queue != failing]
    calls = calls_by_queue(queues.client)

    assert send_to(reporter, failing, 0) is False
    assert calls == [missing]  # tried once (botocore does not retry a missing queue)
    for queue in others:
        assert send_to(reporter, queue, 0) is True
    assert missing not in calls[1:]  # held off: the others' calls do not try it
    now[0] += 2.5  # its hold-off (2 s) is over: the next call tries it once more, and it fails again
    for queue in others:
        assert send_to(reporter, queue, 1) is True
    assert calls.count(missing) == 2
    assert send_to(reporter, failing, 1) is False
    assert calls.count(missing) == 2  # held off again (4 s now): spooled without a call
    assert reporter.flush() == 2  # flush() always tries: the failing queue's two wait

    created = queues.client.create_queue(
        QueueName=missing_name,
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"} if failing == "status" else {},
    )["QueueUrl"]
    assert created == missing
    assert reporter.flush() == 0

    def arrived(queue: str, url: str) -> list[Any]:
        bodies = [m["body"] for m in queues.received(url)]
        if queue == "status":
            return [body["status"] for body in bodies]  # in the order sent
        return sorted(body["global_round"] for body in bodies)

    expected = {"logs": [1, 2], "metrics": [0, 1], "status": ["INITIATED", "PREPARED"]}
    assert arrived(failing, missing) == expected[failing]
    for queue in others:
        assert arrived(queue, urls[f"{queue}_queue_url"]) == expected[queue]
