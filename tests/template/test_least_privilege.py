"""Every function's role, as CloudFormation gets it (after the SAM transform), grants only what the
function needs: its own queue and DLQ for an SQS consumer, the runtime database secret for everyone but
the migrate function, which alone reads the owner's secret."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template import sam

TEMPLATE = sam.transformed()
RESOURCES = TEMPLATE["Resources"]
PHYSICAL = sam.physical_resources(TEMPLATE)
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Lambda::Function")
CONSUMERS = {consumer.function: consumer for consumer in sam.sqs_consumers(TEMPLATE)}
#: AWS managed policies a function role may carry: network interfaces in the VPC, its own logs, X-Ray.
#: Their "*" resources are what those services need (docs/security.md); nothing else may be "*".
MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSXrayWriteOnlyAccess",
}
SQS_CONSUMER_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
}


def role_of(function: str) -> dict[str, Any]:
    role = RESOURCES[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return dict(RESOURCES[role]["Properties"])


def grants(function: str) -> set[tuple[str, str]]:
    """(action, resource) pairs of the role's own policies, resolved."""
    found = set()
    for policy in sam.resolved(role_of(function).get("Policies", []), PHYSICAL):
        if not isinstance(policy, dict):
            continue  # a policy whose condition is false (AWS::NoValue)
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow", statement
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            found |= {(action, resource) for action in actions for resource in resources}
    return found


def managed_policies(function: str) -> set[str]:
    return {str(sam.resolved(arn)) for arn in role_of(function).get("ManagedPolicyArns", [])}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_has_a_wildcard_of_its_own(function: str) -> None:
    assert managed_policies(function) <= MANAGED
    for action, resource in grants(function):
        assert "*" not in action, (function, action)
        assert resource != "*", (function, action)
        assert "*" not in resource.split(":")[-1], (function, action, resource)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_the_migrate_function_reads_the_owners_secret(function: str) -> None:
    secrets = {resource for action, resource in grants(function) if action.startswith("secretsmanager:")}
    environment = RESOURCES[function]["Properties"]["Environment"]["Variables"]
    expected = "MigrationSecretArn" if function == "MigrateFunction" else "DbSecretArn"

    assert {action for action, _ in grants(function) if action.startswith("secretsmanager:")} == {
        "secretsmanager:GetSecretValue"
    }
    assert secrets == {sam.SAMPLE_PARAMETERS[expected]}
    assert sam.resolved(environment["DB_SECRET_ARN"]) == sam.SAMPLE_PARAMETERS[expected]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_sqs_rights_are_an_sqs_consumers_and_scoped_to_its_queue_and_dlq(function: str) -> None:
    sqs = {(action, resource) for action, resource in grants(function) if action.startswith("sqs:")}
    if function == "FlIngressFunction":  # it sends to the three FL queues, and does nothing else with SQS
        queues = {PHYSICAL[queue]["Arn"] for queue in ("FlLogsQueue", "FlMetricsQueue", "FlStatusQueue")}
        assert sqs == {("sqs:SendMessage", queue) for queue in queues}
        return
    if function not in CONSUMERS:
        assert sqs == set()
        return
    consumer = CONSUMERS[function]
    queue, dead_letter_queue = PHYSICAL[consumer.queue]["Arn"], PHYSICAL[consumer.dead_letter_queue]["Arn"]

    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole" not in managed_policies(
        function
    )
    assert sqs == {(action, queue) for action in SQS_CONSUMER_ACTIONS} | {
        ("sqs:SendMessage", dead_letter_queue)
    }
    assert (
        sam.resolved(
            RESOURCES[function]["Properties"]["Environment"]["Variables"]["DEAD_LETTER_QUEUE_URL"], PHYSICAL
        )
        == (PHYSICAL[consumer.dead_letter_queue]["Ref"])
    )


@pytest.mark.parametrize("function", sorted(CONSUMERS))
def test_sqs_consumers_keep_what_sams_role_would_give_them_besides_sqs(function: str) -> None:
    """Their own role must still let them run in the VPC, log and trace."""
    assert {
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    } <= managed_policies(function)
    trust = role_of(function)["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
