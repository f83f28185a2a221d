"""The local stack end to end: ``flip-models dev`` as a subprocess, driven by the README's tour.

The tour's lines are read from README.md and run as written (only the port changes), over real HTTP
and real SQS: moto's server, and LocalStack. The database is the test run's own, checked directly.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flip_local.demo import DEMO_USERS, demo_id
from flip_models.enums import JobStatus, ModelStatus, NetStatus, StatusAuditAction
from flip_models.store.tables import FLJob, FLMetrics, FLScheduler, Model, ModelStatusAudit
from tests.dev_stack import RunningStack, running_dev_stack
from tests.lambda_support import ROOT
from tests.stand_in_flip_api import StandInFlipApi, stand_in_flip_api

README = ROOT / "README.md"
RUNNING = demo_id("model:running")
PENDING = demo_id("model:pending")
SCHEDULER = demo_id("scheduler:1")  # the RUNNING model's
SILENT = demo_id("model:silent")


def tour_lines() -> list[str]:
    """The shell lines between the README's tour markers (comments and blank lines dropped)."""
    text = README.read_text()
    block = re.search(r"<!-- tour:start -->\s*```bash\n(.*?)```\s*<!-- tour:end -->", text, re.S)
    assert block, "README.md lost its tour block"
    return [
        line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.fixture
def flip_api() -> Iterator[StandInFlipApi]:
    """A stand-in for the deployment's flip-api, for the stack's ``--flip-api-url``."""
    with stand_in_flip_api() as api:
        yield api


@pytest.fixture(params=["moto", "localstack"])
def dev_stack(
    request: pytest.FixtureRequest,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    flip_api: StandInFlipApi,
) -> Iterator[RunningStack]:
    """``flip-models dev`` on free ports against the test database; SQS from moto or LocalStack;
    flip-api's other routes passed to a stand-in."""
    environment = {**os.environ, "DATABASE_URL": database_url, "FLIP_LOCAL_LOG_LEVEL": "WARNING"}
    environment.pop("AWS_ENDPOINT_URL", None)
    # The tour runs with the sweep on, as `make run` starts it: the demo's RUNNING model is alive.
    arguments: list[str] = ["--flip-api-url", flip_api.url]
    if request.param == "localstack":
        environment["AWS_ENDPOINT_URL"] = request.getfixturevalue("localstack_endpoint")
        arguments += ["--queue-prefix", f"e2e-{os.getpid()}-{secrets.token_hex(3)}-"]
    with running_dev_stack(environment, arguments, tmp_path) as stack:
        yield stack
    assert "stopping" in stack.output()


def run_line(stack: RunningStack, variables: list[str], line: str) -> str:
    """One tour line, run by bash from the repository root with the tour's variables set."""
    script = "\n".join([*variables, line]).replace("http://127.0.0.1:3000", stack.api)
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=stack.environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def wait_for(condition: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.3)
    pytest.fail("condition not met in time")


def test_the_readme_tour_works_on_the_local_stack(dev_stack: RunningStack, session: Session) -> None:
    lines = tour_lines()
    variables = [line for line in lines if re.match(r"^[A-Z_]+=", line)]
    steps = [line for line in lines if line not in variables]
    assert len(steps) == 9, steps
    researcher = DEMO_USERS["researcher"][0]

    # 1. status
    assert json.loads(run_line(dev_stack, variables, steps[0])) == {"status": "RUNNING", "deleted": False}

    # 2. edit
    assert run_line(dev_stack, variables, steps[1]).strip() == "204"
    session.expire_all()
    assert session.scalar(select(Model.name).where(Model.id == PENDING)) == "Pneumonia baseline v2"
    session.rollback()  # never idle in a transaction while the stack works (the server ends it at 10 s)

    # 3. send metrics through the queue: 3 applied by the poller + handler, 3 dead-lettered
    assert "sent 6 message(s)" in run_line(dev_stack, variables, steps[2])

    def metrics_applied() -> bool:
        session.expire_all()
        rows = session.scalars(
            select(FLMetrics.label).where(FLMetrics.model_id == RUNNING, FLMetrics.global_round == 3)
        ).all()
        session.rollback()
        return sorted(rows) == ["ACCURACY", "LOSS_FUNCTION", "TRAIN_LOSS"]

    wait_for(metrics_applied)
    client, queues = dev_stack.sqs()
    dlq_url = queues["FlMetricsDeadLetterQueue"]["url"]

    def rejected_in_dlq() -> bool:
        attributes = client.get_queue_attributes(  # type: ignore[attr-defined]
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) == 3

    wait_for(rejected_in_dlq)

    # 4. metrics: the Flower-style epoch axis arrived as its own chart
    charts = json.loads(run_line(dev_stack, variables, steps[3]))
    epoch = [chart for chart in charts if (chart["yLabel"], chart["xLabel"]) == ("TRAIN_LOSS", "epoch")]
    assert epoch == [
        {
            "yLabel": "TRAIN_LOSS",
            "xLabel": "epoch",
            "metrics": [
                {"seriesLabel": "UCLH", "data": [{"xValue": 12.0, "yValue": 0.1875}], "totalPoints": 1}
            ],
        }
    ]

    # 5. the model page, as the web app loads it
    page = json.loads(run_line(dev_stack, variables, steps[4]))
    assert (page["modelId"], page["status"]) == (str(RUNNING), "RUNNING")
    assert page["query"] is not None
    assert [trust["code"] for trust in page["trusts"]] == ["GSTT", "KCH", "UCLH"]

    # 6. the round progress card
    progress = json.loads(run_line(dev_stack, variables, steps[5]))
    assert (progress["currentRound"], progress["totalRounds"]) == (4, 10)
    assert {trust["code"]: trust["state"] for trust in progress["trusts"]} == {
        "GSTT": "returned",
        "KCH": "dropped",
        "UCLH": "training",
    }

    # 7. stop
    assert json.loads(run_line(dev_stack, variables, steps[6])) == {"status": "STOPPED", "changed": True}
    session.expire_all()
    assert session.scalar(select(Model.status).where(Model.id == RUNNING)) == ModelStatus.STOPPED
    stops = session.execute(
        select(ModelStatusAudit.user_id).where(
            ModelStatusAudit.model_id == RUNNING, ModelStatusAudit.action == StatusAuditAction.STOPPED
        )
    ).all()
    assert [row.user_id for row in stops] == [researcher]
    assert (
        session.scalar(select(FLScheduler.status).where(FLScheduler.id == SCHEDULER)) == NetStatus.AVAILABLE
    )
    session.rollback()

    # 8. logs: an array, rendered round events, the stop line last
    logs = json.loads(run_line(dev_stack, variables, steps[7]))
    texts = [row["log"] for row in logs]
    assert "Round 1 initiated · global model dispatched" in texts
    assert texts[-1] == "The job for this model has been stopped."

    # 9. FLIP's FL server over HTTP, through the FL ingress: 204 once the message is in fl-metrics
    assert run_line(dev_stack, variables, steps[8]).strip() == "204"

    def http_metric_applied() -> bool:
        session.expire_all()
        rows = session.scalars(select(FLMetrics.result).where(FLMetrics.label == "HTTP_LOSS")).all()
        session.rollback()
        return list(rows) == [0.125]

    wait_for(http_metric_applied)

    output = dev_stack.output()
    assert f"PATCH /model/{RUNNING}/status/STOPPED → 200" in output
    assert re.search(
        rf"ingress POST /api/model/{RUNNING}/metrics → 204 \(\d+ ms\): fl-metrics message ", output
    )
    # One line per message with its fate: the 3 good samples and step 9's applied, the 3 bad ones
    # dead-lettered.
    metric_lines = [line for line in output.splitlines() if "fl-metrics" in line and " message " in line]
    assert sum(line.endswith(": applied") for line in metric_lines) == 4, metric_lines
    assert sum(": dead-lettered: " in line for line in metric_lines) == 3, metric_lines
    # The queue URLs an FL server needs, ready to copy.
    urls = json.loads(dev_stack.state_file.read_text())["fl_queue_urls"]
    for name in ("FLIP_FL_LOGS_QUEUE_URL", "FLIP_FL_METRICS_QUEUE_URL", "FLIP_FL_STATUS_QUEUE_URL"):
        assert f"  export {name}={urls[name]}" in output


def test_no_identity_is_401_like_cognito_and_docs_are_served(dev_stack: RunningStack) -> None:
    request = urllib.request.Request(f"{dev_stack.api}/model/{RUNNING}/status")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 401
    assert json.loads(raised.value.read()) == {"statusCode": 401, "message": "Unauthorized"}
    with urllib.request.urlopen(f"{dev_stack.api}/docs", timeout=10) as page:
        assert b"swagger-ui-bundle.js" in page.read()
    with urllib.request.urlopen(f"{dev_stack.api}/docs/swagger-ui-bundle.js", timeout=10) as script:
        assert b"SwaggerUIBundle" in script.read(200_000)
    with urllib.request.urlopen(f"{dev_stack.api}/openapi.json", timeout=10) as spec:
        assert json.loads(spec.read()) == json.loads((ROOT / "openapi.json").read_text())


def test_one_base_url_serves_the_model_routes_and_passes_flip_apis_on(
    dev_stack: RunningStack, flip_api: StandInFlipApi
) -> None:
    """The web app's one base URL (issue 24): a FLIP route reaches flip-api as it was sent and its
    answer comes back; the model routes stay the stack's own."""
    request = urllib.request.Request(
        f"{dev_stack.api}/echo/fl/initiate/{RUNNING}?x=1",
        data=b'{"trust_ids": []}',
        method="POST",
        headers={"Authorization": "Bearer web-app-token", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        echoed = json.loads(response.read())
    assert (echoed["method"], echoed["target"]) == ("POST", f"/api/echo/fl/initiate/{RUNNING}?x=1")
    assert ["Authorization", "Bearer web-app-token"] in echoed["headers"]
    model = urllib.request.Request(f"{dev_stack.api}/model/{RUNNING}/status", headers={"X-Dev-User": "admin"})
    with urllib.request.urlopen(model, timeout=30) as response:
        assert json.loads(response.read())["status"] in ("RUNNING", "STOPPED")
    assert [r.target for r in flip_api.received] == [f"/api/echo/fl/initiate/{RUNNING}?x=1"]
    wait_for(lambda: "via flip-api" in dev_stack.output())  # the line follows the answer


def test_the_local_stack_sweeps_the_demo_run_whose_fl_server_went_silent(
    database_url: str, engine: Engine, session: Session, tmp_path: Path
) -> None:
    """``--sweep-every 1``: the schedule fires in the function's worker process, fails the demo's
    silent run (its scheduler freed) and the stack's terminal says so."""
    environment = {**os.environ, "DATABASE_URL": database_url, "FLIP_LOCAL_LOG_LEVEL": "WARNING"}
    environment.pop("AWS_ENDPOINT_URL", None)
    with running_dev_stack(environment, ["--sweep-every", "1"], tmp_path) as stack:

        def failed() -> bool:
            session.expire_all()
            failed = session.scalar(select(Model.status).where(Model.id == SILENT)) == ModelStatus.ERROR
            session.rollback()
            return failed

        wait_for(failed)
        wait_for(lambda: str(SILENT) in stack.output())
    scheduler = session.get(FLScheduler, demo_id("scheduler:2"))
    assert scheduler is not None
    assert (scheduler.status, scheduler.job_id) == (NetStatus.AVAILABLE, None)
    assert session.get(FLJob, demo_id("job:silent")).status == JobStatus.COMPLETED  # type: ignore[union-attr]
    assert session.scalar(select(Model.status).where(Model.id == RUNNING)) == ModelStatus.RUNNING  # alive
    output = stack.output()
    assert "schedule: FailStaleRunsFunction every 1 s (rate(5 minutes) in AWS)" in output
    assert "schedule → FailStaleRunsFunction: " in output
