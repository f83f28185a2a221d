"""What an operator needs from template.yaml, checked for every function, queue and option it has.

Each rule is stated over the whole template (every function, every SQS source, every DLQ), so that a
function or queue added later without its log group, alarms or retention fails here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.template import sam

TEMPLATE = sam.source()
RESOURCES = TEMPLATE["Resources"]
GLOBALS = TEMPLATE["Globals"]["Function"]
FUNCTIONS = {
    name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"
}
API_FUNCTIONS = {
    name: properties
    for name, properties in FUNCTIONS.items()
    if any(e["Type"] == "Api" for e in properties.get("Events", {}).values())
}
ALARMS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
SOURCE_QUEUES = [
    n for n, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
]
DEAD_LETTER_QUEUES = [
    RESOURCES[queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    for queue in SOURCE_QUEUES
]
TOPIC = {"Fn::If": ["HasAlarmTopic", {"Ref": "AlarmTopicArn"}, {"Ref": "AlarmTopic"}]}


def alarms_on(namespace: str, metric: str, dimension: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        alarm
        for alarm in ALARMS.values()
        if alarm["Namespace"] == namespace
        and alarm["MetricName"] == metric
        and dimension in alarm["Dimensions"]
    ]


def queue_alarms(metric: str, queue: str) -> list[dict[str, Any]]:
    return alarms_on("AWS/SQS", metric, {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}})


def setting(properties: dict[str, Any], key: str) -> Any:
    return properties.get(key, GLOBALS.get(key))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_logs_to_a_retained_group_of_its_own(name: str) -> None:
    properties = FUNCTIONS[name]
    group = RESOURCES[f"{name}LogGroup"]

    assert properties["LoggingConfig"]["LogGroup"] == {"Ref": f"{name}LogGroup"}
    assert group["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/" + properties["FunctionName"]["Fn::Sub"]
    }
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(name: str, metric: str) -> None:
    [alarm] = alarms_on("AWS/Lambda", metric, {"Name": "FunctionName", "Value": {"Ref": name}})

    assert alarm["Statistic"] == "Sum"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_every_alarm_notifies_the_topic_when_raised_and_when_cleared(name: str) -> None:
    alarm = ALARMS[name]

    assert alarm["AlarmActions"] == alarm["OKActions"] == [TOPIC]
    assert alarm["AlarmName"]["Fn::Sub"].endswith("-${Stage}")
    assert alarm["AlarmDescription"]


def test_the_alarm_topic_is_created_when_none_is_given() -> None:
    topic = RESOURCES["AlarmTopic"]
    conditions = TEMPLATE["Conditions"]

    assert topic["Type"] == "AWS::SNS::Topic"
    assert conditions[topic["Condition"]] == {"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}
    assert conditions["HasAlarmTopic"] == {"Fn::Not": [conditions[topic["Condition"]]]}
    assert TEMPLATE["Outputs"]["AlarmTopicArn"]["Value"] == TOPIC
    assert "AlarmTopic" in sam.created()
    assert "AlarmTopic" not in sam.created(AlarmTopicArn="arn:aws:sns:eu-west-2:123456789012:oncall")


@pytest.mark.parametrize("name", sorted(API_FUNCTIONS))
def test_api_functions_end_before_api_gateway_gives_up(name: str) -> None:
    assert setting(API_FUNCTIONS[name], "Timeout") <= 28


@pytest.mark.parametrize("queue", SOURCE_QUEUES)
def test_every_source_queue_alarms_on_its_oldest_message(queue: str) -> None:
    [alarm] = queue_alarms("ApproximateAgeOfOldestMessage", queue)

    assert alarm["Threshold"] == {"Ref": "FlQueueAgeAlarmSeconds"}
    assert alarm["Statistic"] == "Maximum"


@pytest.mark.parametrize("queue", DEAD_LETTER_QUEUES)
def test_every_dead_letter_queue_is_retained_and_alarms_when_not_empty(queue: str) -> None:
    [alarm] = queue_alarms("ApproximateNumberOfMessagesVisible", queue)

    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert RESOURCES[queue]["DeletionPolicy"] == RESOURCES[queue]["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("queue", SOURCE_QUEUES)
def test_every_dead_letter_queue_takes_only_its_source_queues_messages(queue: str) -> None:
    dead_letter_queue = RESOURCES[queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][
        0
    ]
    allowed = RESOURCES[dead_letter_queue]["Properties"]["RedriveAllowPolicy"]
    queue_arn = sam.resolved(allowed["sourceQueueArns"])
    resources = sam.physical_resources(sam.transformed())

    assert allowed["redrivePermission"] == "byQueue"
    assert queue_arn == [resources[queue]["Arn"]]


def test_the_api_alarms_on_5xx_and_p99_latency() -> None:
    dimensions = [
        {"Name": "ApiName", "Value": {"Fn::Sub": "flip-models-api-${Stage}"}},
        {"Name": "Stage", "Value": {"Ref": "Stage"}},
    ]
    api_name = RESOURCES["FlipApi"]["Properties"]["Name"]

    [errors] = alarms_on("AWS/ApiGateway", "5XXError", dimensions[0])
    [latency] = alarms_on("AWS/ApiGateway", "Latency", dimensions[0])

    assert api_name == dimensions[0]["Value"]
    assert errors["Dimensions"] == latency["Dimensions"] == dimensions
    assert latency["ExtendedStatistic"] == "p99"
    assert latency["Threshold"] == {"Ref": "ApiLatencyAlarmMilliseconds"}


def test_api_access_logs_are_json_with_who_what_and_how_long_and_kept() -> None:
    api = RESOURCES["FlipApi"]
    setting_ = api["Properties"]["AccessLogSetting"]
    group = RESOURCES[setting_["DestinationArn"]["Fn::GetAtt"][0]]
    fields = json.loads(setting_["Format"])

    assert {"requestId", "caller", "route", "status", "latencyMs"} <= set(fields)
    assert fields["caller"] == "$context.authorizer.claims.sub"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["DeletionPolicy"] == "Retain"
    # The stage is created only once API Gateway may write to CloudWatch (when the stack sets that up).
    assert api["DependsOn"] == "ApiGatewayAccountReady"
    assert RESOURCES["ApiGatewayAccountReady"]["Metadata"]["Account"]["Fn::If"][1] == {
        "Ref": "ApiGatewayAccount"
    }


def test_the_dashboard_shows_the_api_the_queues_and_the_database_errors() -> None:
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    resources = sam.physical_resources(sam.transformed())
    names = {
        f"{queue}.QueueName": resources[queue]["QueueName"] for queue in SOURCE_QUEUES + DEAD_LETTER_QUEUES
    }
    values = {
        **names,
        "Stage": "dev",
        "AWS::Region": sam.REGION,
        "ApiAccessLogGroup": "/aws/apigateway/x/access",
    }
    values |= {p: str(sam.parameters()[p]) for p in ("ApiLatencyAlarmMilliseconds", "FlQueueAgeAlarmSeconds")}
    placeholders = set(re.findall(r"\$\{([^}!]+)\}", body))

    assert placeholders <= set(values), placeholders - set(values)
    dashboard = json.loads(re.sub(r"\$\{([^}!]+)\}", lambda m: values[m.group(1)], body))
    metrics = json.dumps([w["properties"].get("metrics") for w in dashboard["widgets"]])

    assert '"AWS/ApiGateway", "5XXError", "ApiName", "flip-models-api-dev"' in metrics
    for queue in SOURCE_QUEUES + DEAD_LETTER_QUEUES:
        assert f'"QueueName", "{names[f"{queue}.QueueName"]}"' in metrics
    assert '"FLIP", "ApiUnavailable"' in metrics
    assert '"FLIP", "FLMessagesRetried"' in metrics
    searches = [
        m[0]["expression"]
        for w in dashboard["widgets"]
        for m in w["properties"].get("metrics", [])
        if "expression" in m[0]
    ]
    assert "SEARCH('{AWS/Lambda,FunctionName} MetricName=\"Errors\" flip-models dev', 'Sum', 300)" in searches
    assert "Service name" not in metrics
    assert GLOBALS["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == {
        "Fn::Sub": "flip-models-${Stage}"
    }


def test_cors_names_the_web_app_and_no_wildcard() -> None:
    parameter = TEMPLATE["Parameters"]["CorsAllowOrigin"]

    assert "Default" not in parameter
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("https://flip.example.nhs.uk")
    assert pattern.fullmatch("http://127.0.0.1:3000")
    for bad in ("*", "https://*.example.org", "https://a.org,https://b.org", "https://flip.example/", ""):
        assert not pattern.fullmatch(bad), bad


def test_vpc_endpoints_for_secrets_manager_and_sqs_are_an_option() -> None:
    plain = sam.created()
    with_endpoints = sam.created(CreateVpcEndpoints="true")
    services = sorted(
        sam.resolved(r["Properties"]["ServiceName"])
        for r in with_endpoints.values()
        if r["Type"] == "AWS::EC2::VPCEndpoint"
    )
    group = sam.resolved(with_endpoints["VpcEndpointSecurityGroup"]["Properties"], CreateVpcEndpoints="true")

    assert not any(r["Type"] == "AWS::EC2::VPCEndpoint" for r in plain.values())
    assert services == [f"com.amazonaws.{sam.REGION}.secretsmanager", f"com.amazonaws.{sam.REGION}.sqs"]
    [ingress] = group["SecurityGroupIngress"]
    assert (ingress["FromPort"], ingress["ToPort"]) == (443, 443)
    assert ingress["SourceSecurityGroupId"] == sam.SAMPLE_PARAMETERS["SecurityGroupIds"][0]
