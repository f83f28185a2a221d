"""template.yaml: the three FL queues with their DLQs, policies, alarms and consumers (SPEC §5)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.template_queues import QueueDefinition, queue_definitions, template

EXPECTED = {
    "fl_logs": ("fl-logs-${Stage}", False),
    "fl_metrics": ("fl-metrics-${Stage}", False),
    "fl_status": ("fl-status-${Stage}.fifo", True),
}


def resources() -> dict[str, Any]:
    return dict(template()["Resources"])


def function_of(definition: QueueDefinition) -> dict[str, Any]:
    [properties] = [
        r["Properties"]
        for r in resources().values()
        if r["Type"] == "AWS::Serverless::Function"
        and r["Properties"]["CodeUri"] == f"functions/{definition.function}/"
    ]
    return dict(properties)


def sqs_event(definition: QueueDefinition) -> dict[str, Any]:
    [event] = [e["Properties"] for e in function_of(definition)["Events"].values() if e["Type"] == "SQS"]
    return dict(event)


def test_there_is_one_consumer_per_fl_queue() -> None:
    assert set(queue_definitions()) == set(EXPECTED)


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_queue_dlq_and_redrive(function: str) -> None:
    definition = queue_definitions()[function]
    name, fifo = EXPECTED[function]
    queue = resources()[definition.queue]["Properties"]
    dead_letter_queue = resources()[definition.dead_letter_queue]["Properties"]

    assert queue["QueueName"] == {"Fn::Sub": name}
    assert definition.max_receive_count == 5
    assert bool(queue.get("FifoQueue")) is fifo
    assert bool(dead_letter_queue.get("FifoQueue")) is fifo  # a FIFO queue needs a FIFO DLQ
    if fifo:
        assert queue["ContentBasedDeduplication"] is False  # senders give explicit deduplication ids
    assert dead_letter_queue["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_visibility_timeout_covers_six_function_timeouts_and_the_batching_window(function: str) -> None:
    definition = queue_definitions()[function]
    timeout = function_of(definition).get("Timeout", template()["Globals"]["Function"]["Timeout"])
    window = template()["Parameters"]["FlBatchingWindowSeconds"]["MaxValue"]

    assert resources()[definition.queue]["Properties"]["VisibilityTimeout"] >= 6 * timeout + window


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_event_source_reports_partial_failures_with_parameters_for_batching_and_concurrency(
    function: str,
) -> None:
    definition = queue_definitions()[function]
    event = sqs_event(definition)
    parameters = template()["Parameters"]

    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "FlMaximumConcurrency"}}
    assert parameters["FlMaximumConcurrency"]["MinValue"] >= 2
    assert event["BatchSize"]["Ref"] in parameters
    if definition.fifo:
        assert "MaximumBatchingWindowInSeconds" not in event  # not supported on FIFO queues
        assert parameters[event["BatchSize"]["Ref"]]["MaxValue"] <= 10
    else:
        assert event["MaximumBatchingWindowInSeconds"] == {"Ref": "FlBatchingWindowSeconds"}


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_the_function_dead_letters_into_its_own_dlq(function: str) -> None:
    """Its role may send there and nowhere else (test_least_privilege); the DLQ takes nobody else's
    messages (test_queue_policies)."""
    definition = queue_definitions()[function]
    properties = function_of(definition)

    assert properties["Environment"]["Variables"]["DEAD_LETTER_QUEUE_URL"] == {
        "Ref": definition.dead_letter_queue
    }


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_an_alarm_watches_each_dlq(function: str) -> None:
    definition = queue_definitions()[function]
    alarms = [
        r["Properties"]
        for r in resources().values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"]["Dimensions"]
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [definition.dead_letter_queue, "QueueName"]}}]
    ]

    assert len(alarms) == 1
    assert alarms[0]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarms[0]["Threshold"] == 0
    assert alarms[0]["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_queue_urls_are_outputs() -> None:
    outputs = {o["Value"]["Ref"] for o in template()["Outputs"].values() if "Ref" in o["Value"]}
    for definition in queue_definitions().values():
        assert {definition.queue, definition.dead_letter_queue} <= outputs
