"""The default client retries what SQS or the network throw at it, and the message arrives once.

The reporter is given only queue URLs (its default client, as an FL server would use it); they
point at an HTTP front of moto's server that throttles requests or drops connections first.
"""

from __future__ import annotations

from support import MODEL, FaultyFront, Queues

from flip_fl_reporter import FLIPReporter
from flip_fl_reporter.sending import CALL_ATTEMPTS


def reporter_through(front: FaultyFront, queues: Queues) -> FLIPReporter:
    return FLIPReporter(
        logs_queue_url=front.url_of(queues.logs),
        metrics_queue_url=front.url_of(queues.metrics),
        status_queue_url=front.url_of(queues.status),
        run_id="job-12",
    )


def test_throttling_is_retried_with_backoff(front: FaultyFront, queues: Queues) -> None:
    reporter = reporter_through(front, queues)
    front.throttle = 2

    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1) is True
    assert reporter.update_status(MODEL, "RUNNING") is True

    assert front.requests == 4  # two throttled, then the two calls
    assert front.actions == ["SendMessageBatch", "SendMessage"]
    assert len(queues.received(queues.metrics)) == 1
    assert len(queues.received(queues.status)) == 1


def test_a_dropped_connection_is_retried(front: FaultyFront, queues: Queues) -> None:
    reporter = reporter_through(front, queues)
    front.drop = 2

    assert reporter.update_status(MODEL, "RUNNING") is True
    assert reporter.send_event(MODEL, "ROUND_STARTED", 1) is True

    assert front.requests == 4
    assert [m["body"]["status"] for m in queues.received(queues.status)] == ["RUNNING"]
    assert len(queues.received(queues.logs)) == 1


def test_when_retries_run_out_the_call_says_so(front: FaultyFront, queues: Queues) -> None:
    reporter = reporter_through(front, queues)
    front.throttle = 100

    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1) is False

    assert front.requests == CALL_ATTEMPTS  # botocore's standard mode
    front.throttle = 0
    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 1) is True  # the caller's retry
    assert len(queues.received(queues.metrics)) == 1
