"""Event ids: the same call in the same run gives the same id in any process, on any Python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

from support import MODEL

from flip_fl_reporter.messages import derive_event_id, metric_body, outgoing, status_body

#: Pinned: the derivation must not change between releases, Python versions or processes (a call
#: retried by a restarted FL server must be recognised as the same message).
PINNED = "flr1-metrics-d2bfd50dba74ee4d4969bda92dadee27e4709e35"


def _metric_id(run_id: str = "job-12", **changes: object) -> str:
    call = {
        "model_id": MODEL,
        "fl_client_name": "Trust_1",
        "label": "LOSS",
        "result": 0.2317,
        "global_round": 3,
    }
    call.update(changes)
    return outgoing("metrics", metric_body(**call), run_id).event_id


def test_the_id_is_pinned() -> None:
    assert _metric_id() == PINNED


def test_the_same_call_gives_the_same_id_in_another_process() -> None:
    script = textwrap.dedent(
        f"""
        from flip_fl_reporter.messages import metric_body, outgoing
        body = metric_body({MODEL!r}, "Trust_1", "LOSS", 0.2317, 3)
        print(outgoing("metrics", body, "job-12").event_id)
        """
    )
    # A different hash seed: nothing may depend on hash() (randomised per process).
    other = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )

    assert other.stdout.strip() == _metric_id() == PINNED


def test_ids_are_scoped_by_run_and_follow_what_the_message_says() -> None:
    ids = {
        _metric_id(),
        _metric_id(run_id="job-13"),
        _metric_id(result=0.2318),
        _metric_id(global_round=4),
        _metric_id(fl_client_name="Trust_2"),
        _metric_id(model_id="11111111-2222-3333-4444-555555555555"),
        _metric_id(x_label="epoch"),
    }

    assert len(ids) == 7
    assert _metric_id(model_id=MODEL.upper()) == _metric_id()  # the same model, written differently


def test_the_same_status_whatever_its_spelling_is_one_id() -> None:
    first = outgoing("status", status_body(MODEL, "RUNNING"), "job-12")
    again = outgoing("status", status_body(MODEL, " running "), "job-12")

    assert first == again


def test_an_id_is_a_valid_fifo_deduplication_id() -> None:
    event_id = derive_event_id(
        "status", {"model_id": MODEL, "status": "RUNNING", "note": "é" * 1000}, "r" * 5000
    )

    assert re.fullmatch(r"[A-Za-z0-9-]{1,128}", event_id)
