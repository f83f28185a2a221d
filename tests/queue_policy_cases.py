"""Who may send to an FL queue and to its DLQ: the table both the template test and the deploy test
evaluate (tests/iam_policy.py) against the queue policies, as written and as deployed."""

from __future__ import annotations

from dataclasses import dataclass

from tests.iam_policy import Caller, Decision, Request

OTHER_ACCOUNT = "210987654321"


@dataclass(frozen=True)
class Roles:
    """The ARNs the policies name, in the account that owns the queues."""

    account: str
    fl_server: str
    consumer: str  # the queue's own consumer function's role
    other_consumer: str  # another FL queue's consumer
    redrive: str | None  # RedriveRoleArn, when given
    ingress: str | None = None  # the FL ingress function's role (FLIP's FL servers over HTTP)

    def role(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"


def _send(caller: Caller, resource: str, *, tls: bool = True) -> Request:
    return Request(caller, "sqs:SendMessage", resource, secure_transport=tls)


def _everyone_else(roles: Roles) -> list[Caller]:
    """Principals that must never send, whatever their own IAM policies allow."""
    return [
        Caller("an administrator role of the account (sqs:*)", roles.role("Administrator"), roles.account),
        Caller("the account's root user", f"arn:aws:iam::{roles.account}:root", roles.account),
        Caller("an IAM user of the account", f"arn:aws:iam::{roles.account}:user/analyst", roles.account),
        Caller(
            "a role named like the FL servers' under another path",
            roles.fl_server.replace(":role/", ":role/impostor/"),
            roles.account,
        ),
        Caller("a role of another account", f"arn:aws:iam::{OTHER_ACCOUNT}:role/anyone", OTHER_ACCOUNT),
        Caller("an anonymous caller", None, None, identity_allows=False),
    ]


def source_queue_cases(roles: Roles, queue_arn: str) -> list[tuple[Request, Decision]]:
    """Only the FL servers' role (and the redrive role when there is one) may send, over TLS."""
    fl_server = Caller("the FL servers' role", roles.fl_server, roles.fl_server.split(":")[4])
    cases = [
        (_send(fl_server, queue_arn), Decision.ALLOW),
        (_send(fl_server, queue_arn, tls=False), Decision.EXPLICIT_DENY),
        (
            _send(Caller("the queue's consumer", roles.consumer, roles.account), queue_arn),
            Decision.EXPLICIT_DENY,
        ),
    ]
    if roles.redrive:
        redrive = Caller("the redrive role", roles.redrive, roles.account)
        cases.append((_send(redrive, queue_arn), Decision.ALLOW))
    else:
        unnamed = Caller("a redrive role not given as RedriveRoleArn", roles.role("redrive"), roles.account)
        cases.append((_send(unnamed, queue_arn), Decision.EXPLICIT_DENY))
    if roles.ingress:
        ingress = Caller("the FL ingress's role", roles.ingress, roles.account)
        cases.append((_send(ingress, queue_arn), Decision.ALLOW))
        cases.append((_send(ingress, queue_arn, tls=False), Decision.EXPLICIT_DENY))
    cases += [(_send(caller, queue_arn), Decision.EXPLICIT_DENY) for caller in _everyone_else(roles)]
    return cases


def dead_letter_queue_cases(roles: Roles, dlq_arn: str) -> list[tuple[Request, Decision]]:
    """Only the queue's own consumer may send (its rejections), over TLS."""
    consumer = Caller("the queue's consumer", roles.consumer, roles.account)
    cases = [
        (_send(consumer, dlq_arn), Decision.ALLOW),
        (_send(consumer, dlq_arn, tls=False), Decision.EXPLICIT_DENY),
        (
            _send(Caller("another FL consumer", roles.other_consumer, roles.account), dlq_arn),
            Decision.EXPLICIT_DENY,
        ),
        (
            _send(Caller("the FL servers' role", roles.fl_server, roles.account), dlq_arn),
            Decision.EXPLICIT_DENY,
        ),
    ]
    if roles.redrive:
        redrive = Caller("the redrive role", roles.redrive, roles.account)
        cases.append((_send(redrive, dlq_arn), Decision.EXPLICIT_DENY))
    if roles.ingress:  # the ingress sends to the FL queues, never to a DLQ
        ingress = Caller("the FL ingress's role", roles.ingress, roles.account)
        cases.append((_send(ingress, dlq_arn), Decision.EXPLICIT_DENY))
    # A request with no principal (SQS's own move after 5 receives, or anonymous) is not the Deny's:
    # SQS's move needs no permission, an anonymous caller has no Allow.
    cases += [
        (_send(caller, dlq_arn), Decision.EXPLICIT_DENY if caller.principal_arn else Decision.IMPLICIT_DENY)
        for caller in _everyone_else(roles)
    ]
    return cases
