"""The spool survives a crash at any point: what a call wrote is sent by the next reporter on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from support import MODEL, Queues, free_port, sqs_client

from flip_fl_reporter import FLIPReporter
from flip_fl_reporter.messages import Outgoing
from flip_fl_reporter.spool import STALE_TEMPORARY_SECONDS, Spool

#: A reporter process that dies (no cleanup, no flush: ``os._exit``) at the moment it would send.
CRASHING_FL_SERVER = textwrap.dedent(
    """
    import os, sys
    from support import sqs_client
    from flip_fl_reporter import FLIPReporter

    endpoint, spool, logs, metrics, status = sys.argv[1:]
    client = sqs_client(endpoint)
    client.meta.events.register("before-call.sqs.*", lambda **_: os._exit(9))
    reporter = FLIPReporter(
        logs_queue_url=logs, metrics_queue_url=metrics, status_queue_url=status,
        sqs_client=client, run_id="job-12", spool_dir=spool,
    )
    reporter.send_metrics("{model}", "Trust_1", "LOSS", 0.5, 3)
    print("not reached")
    """
).format(model=MODEL)


def run_crashing_fl_server(
    moto_endpoint: str, spool: Path, queues: Queues
) -> subprocess.CompletedProcess[str]:
    here = Path(__file__).resolve().parent
    return subprocess.run(
        [
            sys.executable,
            "-c",
            CRASHING_FL_SERVER,
            moto_endpoint,
            str(spool),
            queues.logs,
            queues.metrics,
            queues.status,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(here)},
        check=False,
    )


def test_a_crash_between_the_write_and_the_send_loses_nothing(
    moto_endpoint: str, queues: Queues, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"

    crashed = run_crashing_fl_server(moto_endpoint, spool, queues)

    assert crashed.returncode == 9, crashed.stderr
    assert "not reached" not in crashed.stdout
    assert queues.received(queues.metrics) == []
    [waiting] = spool.glob("*.json")
    spooled_id = json.loads(waiting.read_text())["event_id"]
    # The FL server starts again on the same spool: the next call (or flush) sends it first.
    restarted = FLIPReporter(**queues.urls(), sqs_client=queues.client, run_id="job-12", spool_dir=spool)
    assert restarted.update_status(MODEL, "RUNNING") is True
    [metric] = queues.received(queues.metrics)
    assert metric["body"]["global_round"] == 3
    assert metric["body"]["event_id"] == spooled_id
    assert list(spool.glob("*.json")) == []


def test_a_crash_after_the_send_sends_it_again_under_the_same_id(queues: Queues, tmp_path: Path) -> None:
    """The file is deleted after SQS accepted it; a crash in between sends it twice, as one event."""
    spool = Spool(tmp_path / "spool")
    reporter = FLIPReporter(
        **queues.urls(), sqs_client=queues.client, run_id="job-12", spool_dir=spool.directory
    )
    assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, 3) is True
    [first] = queues.received(queues.metrics)
    spool.put(Outgoing("metrics", first["text"], first["body"]["event_id"]))  # as if never deleted

    assert reporter.flush() == 0

    [again] = queues.received(queues.metrics)
    assert again["text"] == first["text"]


def test_a_write_cut_short_is_never_sent_and_is_cleared_when_stale(queues: Queues, tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    torn = spool_dir / ".00000000000000000001-0000001-000000-metrics.json.tmp"
    torn.write_text('{"v": 1, "queue": "metr')
    reporter = FLIPReporter(**queues.urls(), sqs_client=queues.client, spool_dir=spool_dir)

    assert reporter.flush() == 0
    assert torn.exists()  # maybe another process's write in progress: left alone
    old = time.time() - STALE_TEMPORARY_SECONDS - 1
    os.utime(torn, (old, old))
    assert reporter.flush() == 0
    assert not torn.exists()
    assert queues.received(queues.metrics) == []


def test_an_unreadable_spool_file_is_set_aside(queues: Queues, tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    reporter = FLIPReporter(**queues.urls(), sqs_client=queues.client, spool_dir=spool_dir)
    (spool_dir / "00000000000000000001-0000001-000000-logs.json").write_text("not json")

    assert reporter.send_event(MODEL, "ROUND_STARTED", 1) is True

    assert [p.name for p in (spool_dir / "rejected").glob("*.json")] == [
        "00000000000000000001-0000001-000000-logs.json"
    ]
    assert len(queues.received(queues.logs)) == 1


def test_spooled_messages_keep_their_order(queues: Queues, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    written: dict[str, Any] = {}
    for index in range(30):
        path = spool.put(Outgoing("status", f'{{"n": {index}}}', f"id-{index}", MODEL))
        written[path.name] = index

    assert [written[path.name] for path, _ in spool.pending()] == list(range(30))


# --- spool files are created exclusively: writers sharing a directory never overwrite each other ----

#: Writes ``count`` messages to a spool with the clock and the process id frozen, as two FL servers
#: in containers (both pid 1, say) sharing a volume may on the same clock tick.
FROZEN_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from flip_fl_reporter.messages import Outgoing
    from flip_fl_reporter.spool import Spool

    directory, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    time.time_ns = lambda: 1_700_000_000_000_000_000
    os.getpid = lambda: 1
    spool = Spool(Path(directory))
    for index in range(count):
        spool.put(Outgoing("metrics", '{"n": %d}' % index, "%s-%d" % (name, index)))
    """
)


def test_two_reporters_in_one_process_on_the_same_clock_tick_keep_every_message(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    unreachable = sqs_client(f"http://127.0.0.1:{free_port()}", attempts=1)
    monkeypatch.setattr(time, "time_ns", lambda: 1_700_000_000_000_000_000)
    first, second = (
        FLIPReporter(**queues.urls(), sqs_client=unreachable, run_id=f"job-{n}", spool_dir=spool)
        for n in (1, 2)
    )
    for round_ in range(3):
        for reporter in (first, second):
            assert reporter.send_metrics(MODEL, "Trust_1", "LOSS", 0.5, round_) is False
    assert len(list(spool.glob("*.json"))) == 6
    monkeypatch.undo()

    up = FLIPReporter(**queues.urls(), sqs_client=queues.client, spool_dir=spool)
    assert up.flush() == 0
    received = queues.received(queues.metrics)
    assert len({m["body"]["event_id"] for m in received}) == 6


def test_spools_of_two_processes_with_one_pid_on_the_same_clock_tick_keep_every_message(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "spool"
    for name in ("first", "second"):
        subprocess.run(
            [sys.executable, "-c", FROZEN_WRITER, str(directory), name, "3"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    assert sorted(message.event_id for _, message in Spool(directory).pending()) == [
        "first-0",
        "first-1",
        "first-2",
        "second-0",
        "second-1",
        "second-2",
    ]


def test_statuses_spooled_by_two_reporters_of_a_process_on_one_clock_tick_keep_their_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_700_000_000_000_000_000)
    first, second = Spool(tmp_path / "spool"), Spool(tmp_path / "spool")
    written = [
        (second if index % 2 else first).put(Outgoing("status", f'{{"n": {index}}}', f"id-{index}", MODEL))
        for index in range(20)
    ]

    assert [message.event_id for _, message in first.pending()] == [f"id-{index}" for index in range(20)]
    assert [path for path, _ in first.pending()] == written
