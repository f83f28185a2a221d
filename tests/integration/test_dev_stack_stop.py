"""``flip-models dev`` as a newcomer runs it, again and again (issue 27): ``--reset`` starts from fresh
demo data, ``--warm`` starts every function's worker up front, a re-sent sample is a duplicate, a
client that hangs up mid-request is one line, and Ctrl-C (SIGINT to the whole process group, as a
terminal sends it) stops each component with one line and no traceback; what the functions log is
readable, one line each.

Each test has a database of its own: ``--reset`` empties one the service created, and refuses FLIP's.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from flip_local.databases import FLIP_HEAD_SQL, migrated_database
from flip_local.demo import demo_id, seed_demo
from flip_local.stack import PARAMETERS, free_port
from flip_local.template import load_template
from flip_models.enums import ModelStatus
from flip_models.store.tables import Model
from tests.conftest import ADMIN_URL
from tests.dev_stack import RunningStack, running_dev_stack
from tests.lambda_support import ROOT

PENDING = demo_id("model:pending")
FLIP_MODELS = str(Path(sys.executable).with_name("flip-models"))


def _environment(url: str) -> dict[str, str]:
    environment = {**os.environ, "DATABASE_URL": url, "FLIP_LOCAL_LOG_LEVEL": "WARNING"}
    environment.pop("AWS_ENDPOINT_URL", None)
    return environment


def _walk_the_tour_once(url: str) -> None:
    """The demo seeded and its PENDING model stopped, as a first tour leaves it."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            seed_demo(session)
            session.execute(update(Model).where(Model.id == PENDING).values(status=ModelStatus.STOPPED))
            session.commit()
    finally:
        engine.dispose()


def _status(stack: RunningStack) -> str:
    request = urllib.request.Request(f"{stack.api}/model/{PENDING}", headers={"X-Dev-User": "admin"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return str(json.load(response)["status"])


def _send_twice(stack: RunningStack) -> None:
    for _ in range(2):
        subprocess.run(
            [FLIP_MODELS, "send", "events/fl_metrics.json"], cwd=ROOT, env=stack.environment, check=True
        )


def _hang_up_mid_request(stack: RunningStack) -> None:
    """A request, then the socket closed at once with a reset (SO_LINGER 0), before the answer."""
    host, port = stack.api.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.sendall(f"GET /model/{PENDING} HTTP/1.1\r\nHost: x\r\nX-Dev-User: admin\r\n\r\n".encode())


def _wait_for(stack: RunningStack, text: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while stack.output().count(text) < count:
        assert time.monotonic() < deadline, f"{count} x {text!r} expected:\n{stack.log_tail(60)}"
        time.sleep(0.3)


def test_a_reset_warm_stack_answers_afresh_and_stops_on_ctrl_c_with_one_line_per_component(
    tmp_path: Path,
) -> None:
    valid = 3  # of events/fl_metrics.json's six messages; the other three are dead-lettered
    with migrated_database(ADMIN_URL, "flip_test_dev_reset") as url:
        _walk_the_tour_once(url)
        with running_dev_stack(_environment(url), ["--reset", "--warm"], tmp_path, timeout=240) as stack:
            assert _status(stack) == ModelStatus.PENDING  # fresh demo data, not the tour's STOPPED
            ingress_port = json.loads(stack.state_file.read_text())["ingress_url"].rsplit(":", 1)[1]
            _send_twice(stack)
            _wait_for(stack, ": duplicate", valid)  # the re-sent samples: same event_id, same body
            _hang_up_mid_request(stack)
            _wait_for(stack, "hung up before its answer", 1)
            assert stack.interrupt() == 0
        output = stack.output()

    assert "Traceback" not in output, output
    assert "KeyboardInterrupt" not in output, output
    assert output.count(": duplicate") == valid, output
    # What the functions log is one readable line each, not Powertools' JSON (nor EMF metric lines).
    assert not [line for line in output.splitlines() if line.lstrip().startswith("{")], output
    assert "FlMetricsFunction WARNING: FL message rejected (queue=fl-metrics" in output
    assert output.count("hung up before its answer") == 1, output
    functions = load_template(parameters=PARAMETERS).functions.values()
    components = [f"HTTP API :{stack.api.rsplit(':', 1)[1]}", f"FL ingress :{ingress_port}", "SQS (moto)"]
    components += [f"worker {spec.logical_id}" for spec in functions]  # every one ran: --warm
    components += [f"poller {source.queue}" for spec in functions for source in spec.sqs_sources]
    components += [f"schedule {spec.logical_id}" for spec in functions if spec.schedules]
    stopped = [line.split(" ", 1)[1] for line in output.splitlines() if line[9:].startswith("stopped ")]
    assert sorted(stopped) == sorted(f"stopped {name}" for name in components), output
    assert f"warm: {len(functions)} function workers started" in output


def test_reset_refuses_flips_own_database(tmp_path: Path) -> None:
    with migrated_database(ADMIN_URL, "flip_test_dev_reset_flip", FLIP_HEAD_SQL) as url:
        result = subprocess.run(
            [FLIP_MODELS, "dev", "--reset", "--port", str(free_port()), "--sqs-port", str(free_port())],
            cwd=ROOT,
            env={**_environment(url), "FLIP_LOCAL_STATE": str(tmp_path / "stack.json")},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert result.returncode != 0
    assert "--reset refused: this database holds FLIP's own schema" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
