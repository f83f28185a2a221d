"""The FL queues' and their DLQs' policies, evaluated as IAM would for a table of callers.

Every SQS event source of the template is checked, with and without a redrive role: its queue accepts
messages from the FL servers' role (and RedriveRoleArn) only, its DLQ from its own consumer only,
both over TLS only, whatever the caller's own IAM policies allow.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam_policy import Caller, Decision, Request, evaluate
from tests.queue_policy_cases import OTHER_ACCOUNT, Roles, dead_letter_queue_cases, source_queue_cases
from tests.template import sam

REDRIVE = f"arn:aws:iam::{sam.ACCOUNT}:role/flip-redrive"
OPTIONS = {"with a redrive role": {"RedriveRoleArn": REDRIVE}, "without": {}}
CONSUMERS = [consumer.function for consumer in sam.sqs_consumers(sam.transformed())]


def queue_policy(template: dict[str, Any], queue: str) -> dict[str, Any]:
    """The one QueuePolicy resource attached to ``queue`` (its PolicyDocument, unresolved)."""
    [policy] = [
        r["Properties"]["PolicyDocument"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SQS::QueuePolicy" and r["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    return dict(policy)


def policies_and_roles(
    function: str, options: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], Roles, dict[str, dict[str, str]]]:
    template = sam.transformed(**options)
    resources = sam.physical_resources(template)
    consumers = {c.function: c for c in sam.sqs_consumers(template)}
    consumer = consumers[function]
    other = next(c for c in consumers.values() if c.function != function)
    roles = Roles(
        account=sam.ACCOUNT,
        fl_server=sam.parameters(**options)["FlServerRoleArn"],
        consumer=resources[consumer.role]["Arn"],
        other_consumer=resources[other.role]["Arn"],
        redrive=options.get("RedriveRoleArn"),
        ingress=resources["FlIngressFunctionRole"]["Arn"],
    )
    queue = sam.resolved(queue_policy(template, consumer.queue), resources, **options)
    dead_letter_queue = sam.resolved(queue_policy(template, consumer.dead_letter_queue), resources, **options)
    return (
        queue,
        dead_letter_queue,
        roles,
        {"queue": resources[consumer.queue], "dlq": resources[consumer.dead_letter_queue]},
    )


def verdicts(
    policy: dict[str, Any], cases: list[tuple[Request, Decision]]
) -> tuple[dict[str, Decision], ...]:
    """(IAM's decision, the expected one) for each caller of the table, by who sends and how."""

    def who(request: Request) -> str:
        return request.caller.description + ("" if request.secure_transport else " over plain HTTP")

    got = {who(request): evaluate(policy, request, sam.ACCOUNT) for request, _ in cases}
    return got, {who(request): expected for request, expected in cases}


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("function", CONSUMERS)
def test_only_the_fl_servers_and_the_redrive_role_send_to_an_fl_queue(function: str, option: str) -> None:
    queue, _, roles, arns = policies_and_roles(function, OPTIONS[option])

    got, expected = verdicts(queue, source_queue_cases(roles, arns["queue"]["Arn"]))

    assert got == expected


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("function", CONSUMERS)
def test_only_its_consumer_sends_to_a_dead_letter_queue(function: str, option: str) -> None:
    _, dead_letter_queue, roles, arns = policies_and_roles(function, OPTIONS[option])

    got, expected = verdicts(dead_letter_queue, dead_letter_queue_cases(roles, arns["dlq"]["Arn"]))

    assert got == expected


def test_fl_servers_of_another_account_send_with_the_queue_policy_and_their_own() -> None:
    fl_server = f"arn:aws:iam::{OTHER_ACCOUNT}:role/flip-fl-server"
    function = CONSUMERS[0]
    queue, _, _, arns = policies_and_roles(function, {"FlServerRoleArn": fl_server})
    arn = arns["queue"]["Arn"]

    def send(caller: Caller) -> Decision:
        return evaluate(queue, Request(caller, "sqs:SendMessage", arn), sam.ACCOUNT)

    assert send(Caller("FL servers", fl_server, OTHER_ACCOUNT)) == Decision.ALLOW
    assert send(Caller("FL servers, no IAM grant", fl_server, OTHER_ACCOUNT, identity_allows=False)) == (
        Decision.IMPLICIT_DENY
    )
    neighbour = f"arn:aws:iam::{OTHER_ACCOUNT}:role/neighbour"
    assert send(Caller("their neighbour", neighbour, OTHER_ACCOUNT)) == Decision.EXPLICIT_DENY


def test_the_evaluator_finds_the_hole_of_the_former_policy() -> None:
    """The Deny that combined ArnNotEquals with StringNotEquals (both had to hold) let anyone in the
    account send: the evaluator must see that, or its verdicts above mean nothing."""
    queue_arn = f"arn:aws:sqs:{sam.REGION}:{sam.ACCOUNT}:fl-status-dev.fifo"
    fl_server = f"arn:aws:iam::{sam.ACCOUNT}:role/flip-fl-server"
    former = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": fl_server},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {
                    "ArnNotEquals": {"aws:PrincipalArn": fl_server},
                    "StringNotEquals": {"aws:PrincipalAccount": sam.ACCOUNT},
                },
            },
        ],
    }
    admin = Caller("admin", f"arn:aws:iam::{sam.ACCOUNT}:role/Administrator", sam.ACCOUNT)
    stranger = Caller("stranger", f"arn:aws:iam::{OTHER_ACCOUNT}:role/x", OTHER_ACCOUNT)

    assert evaluate(former, Request(admin, "sqs:SendMessage", queue_arn), sam.ACCOUNT) == Decision.ALLOW
    assert (
        evaluate(former, Request(stranger, "sqs:SendMessage", queue_arn), sam.ACCOUNT)
        == Decision.EXPLICIT_DENY
    )
