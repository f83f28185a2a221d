"""template.yaml: the stale-run sweep on an EventBridge schedule (SPEC §8), and its sample event."""

from __future__ import annotations

import json
from typing import Any

from flip_local.schedule import scheduled_event
from tests.lambda_support import ROOT
from tests.template.test_sam_transform import transformed
from tests.template.test_template import functions, load_template

FUNCTION = "FailStaleRunsFunction"


def sweep() -> dict[str, Any]:
    return functions()[FUNCTION]


def test_the_sweep_runs_on_a_schedule_whose_rate_is_a_parameter() -> None:
    parameters = load_template()["Parameters"]
    [event] = sweep()["Events"].values()

    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Ref": "StaleRunSweepRate"}
    assert parameters["StaleRunSweepRate"]["Default"] == "rate(5 minutes)"


def test_the_threshold_is_a_parameter_passed_as_environment() -> None:
    parameters = load_template()["Parameters"]

    assert sweep()["Environment"]["Variables"]["STALE_RUN_MINUTES"] == {"Ref": "StaleRunMinutes"}
    assert parameters["StaleRunMinutes"]["Default"] == 120
    assert parameters["StaleRunMinutes"]["MinValue"] >= 1


def test_the_sweep_has_a_generous_timeout_its_log_group_and_the_secret() -> None:
    resources = load_template()["Resources"]
    global_timeout = load_template()["Globals"]["Function"]["Timeout"]

    assert global_timeout < sweep()["Timeout"] <= 900
    assert sweep()["CodeUri"] == "functions/fail_stale_runs/"
    log_group = resources[f"{FUNCTION}LogGroup"]["Properties"]
    assert log_group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/flip-models-fail-stale-runs-${Stage}"}
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "DbSecretArn"}}} in sweep()[
        "Policies"
    ]


def test_sam_turns_the_schedule_into_an_eventbridge_rule_that_may_invoke_the_function() -> None:
    resources = transformed()["Resources"]
    rules = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    permissions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]

    [rule] = rules
    assert rule["ScheduleExpression"] in ({"Ref": "StaleRunSweepRate"}, "rate(5 minutes)")
    # The rule invokes the function's "live" alias (AutoPublishAlias), which the permission names too.
    alias = FUNCTION + "Aliaslive"
    assert resources[alias]["Properties"]["FunctionName"] == {"Ref": FUNCTION}
    assert rule["Targets"][0]["Arn"] == {"Ref": alias}
    assert any(
        p["Principal"] == "events.amazonaws.com" and p["FunctionName"] == {"Ref": alias} for p in permissions
    )


def test_the_sample_event_is_a_scheduled_event_like_the_local_stack_sends() -> None:
    sample = json.loads((ROOT / "events" / "fail_stale_runs.json").read_text())
    local = scheduled_event("flip-models-local-FailStaleRunsFunctionSweep")

    assert (sample["source"], sample["detail-type"], sample["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert set(sample) == set(local)
    assert (local["source"], local["detail-type"], local["detail"]) == ("aws.events", "Scheduled Event", {})
    assert [arn.split(":")[2] for arn in (*sample["resources"], *local["resources"])] == ["events", "events"]
