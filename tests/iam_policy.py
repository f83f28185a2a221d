"""A small evaluator of IAM's decision for one request against a resource policy, for the queue policies.

It follows IAM's policy evaluation logic for a resource-based policy next to the caller's identity
policies (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- an explicit ``Deny`` that matches wins;
- otherwise, a caller of the resource's own account is allowed when its identity policy or the
  resource policy allows; a caller of another account needs both;
- otherwise the request is implicitly denied.

Statements match on ``Principal`` (``"*"``, or ``{"AWS": ARNs or account ids}``), ``Action`` and
``Resource`` (with ``*`` and ``?`` wildcards) and ``Condition``. Condition operators follow IAM's rules
(several values of one key: any may match; several keys and operators: all must hold; a key absent
from the request: a negated operator holds, the others do not; ``Null`` tests the key's absence). An
operator this evaluator does not know raises, so a policy never passes by being misread.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Decision(StrEnum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class Caller:
    """Who sends: the principal's ARN (None when anonymous) and account, and whether its own identity
    policies allow the action."""

    description: str
    principal_arn: str | None
    account: str | None
    identity_allows: bool = True


@dataclass(frozen=True)
class Request:
    caller: Caller
    action: str
    resource: str
    secure_transport: bool = True

    def context(self) -> dict[str, str]:
        """The request context keys the queue policies may test."""
        keys = {"aws:SecureTransport": "true" if self.secure_transport else "false"}
        if self.caller.principal_arn is not None:
            keys["aws:PrincipalArn"] = self.caller.principal_arn
        if self.caller.account is not None:
            keys["aws:PrincipalAccount"] = self.caller.account
        return keys


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _wildcard(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _string_equals(policy_value: str, value: str) -> bool:
    return policy_value == value


def _arn_like(policy_value: str, value: str) -> bool:
    """ARN matching: six colon-separated parts, each matched with wildcards."""
    pattern_parts, value_parts = policy_value.split(":", 5), value.split(":", 5)
    return len(pattern_parts) == len(value_parts) == 6 and all(
        _wildcard(p, v) for p, v in zip(pattern_parts, value_parts, strict=True)
    )


def _bool(policy_value: str, value: str) -> bool:
    return str(policy_value).lower() == value.lower()


# operator → (how one policy value matches the request's value, negated?)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringLike": (_wildcard, False),
    "StringNotLike": (_wildcard, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
}


def conditions_hold(condition: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, str]) -> bool:
    for operator, keys in (condition or {}).items():
        if operator == "Null":  # "true": the key is absent from the request; "false": it is present
            if any((key not in context) != _bool(str(value), "true") for key, value in keys.items()):
                return False
            continue
        if operator not in _OPERATORS:
            raise NotImplementedError(f"condition operator {operator} is not modelled")
        match, negated = _OPERATORS[operator]
        for key, policy_values in keys.items():
            if key not in context:
                holds = negated
            else:
                matched = any(match(str(v), context[key]) for v in _as_list(policy_values))
                holds = not matched if negated else matched
            if not holds:
                return False
    return True


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping) or set(principal) - {"AWS"}:
        raise NotImplementedError(f"principal {principal!r} is not modelled")
    for entry in _as_list(principal.get("AWS", [])):
        entry = str(entry)
        if entry == "*":
            return True
        if caller.principal_arn is None:
            continue
        if entry == caller.principal_arn:
            return True
        # An account (its id or its root ARN) names every principal of that account.
        if entry in (caller.account, f"arn:aws:iam::{caller.account}:root"):
            return True
    return False


def _statement_matches(statement: Mapping[str, Any], request: Request) -> bool:
    if "NotPrincipal" in statement or "NotAction" in statement or "NotResource" in statement:
        raise NotImplementedError("NotPrincipal / NotAction / NotResource are not modelled")
    return (
        _principal_matches(statement["Principal"], request.caller)
        and any(_wildcard(a, request.action, case_sensitive=False) for a in _as_list(statement["Action"]))
        and any(_arn_like(r, request.resource) or r == "*" for r in _as_list(statement["Resource"]))
        and conditions_hold(statement.get("Condition"), request.context())
    )


def evaluate(policy: Mapping[str, Any], request: Request, resource_account: str) -> Decision:
    """IAM's decision for ``request`` on a resource of ``resource_account`` carrying ``policy``."""
    statements: Sequence[Mapping[str, Any]] = _as_list(policy["Statement"])
    matching = [s for s in statements if _statement_matches(s, request)]
    if any(s["Effect"] == "Deny" for s in matching):
        return Decision.EXPLICIT_DENY
    resource_allows = any(s["Effect"] == "Allow" for s in matching)
    identity_allows = request.caller.identity_allows and request.caller.principal_arn is not None
    same_account = request.caller.account == resource_account
    allowed = (identity_allows or resource_allows) if same_account else (identity_allows and resource_allows)
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
