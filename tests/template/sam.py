"""template.yaml through an offline SAM transform (what CloudFormation gets), with sample parameters.

The transform is samtranslator's, as ``sam deploy`` runs it, without AWS: code locations become S3
objects as ``sam package`` makes them, and the managed policies SAM attaches are named offline. The
resolved values (``resolved``) come from the local stack's template reader with the same parameters.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from samtranslator.translator.transform import transform

from flip_local.template import evaluate_conditions, resolve
from tests.template.test_template import load_template

REGION = "eu-west-2"
ACCOUNT = "123456789012"
POOL_ARN = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_Example"
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::StackName": "flip-models-dev",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/flip-models-dev/1",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}
#: A value for every parameter without a default, as an operator would give them.
SAMPLE_PARAMETERS: dict[str, Any] = {
    "DbSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:flip-runtime-AbCdEf",
    "MigrationSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:flip-owner-AbCdEf",
    "VpcId": "vpc-0123456789abcdef0",
    "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "SecurityGroupIds": ["sg-0123456789abcdef0"],
    "CognitoUserPoolArn": POOL_ARN,
    "CorsAllowOrigin": "https://flip.example.nhs.uk",
    "FlServerRoleArn": f"arn:aws:iam::{ACCOUNT}:role/flip-fl-server",
    # The FL ingress is PRIVATE by default: the FL servers' execute-api VPC endpoint.
    "FlIngressVpcEndpointIds": "vpce-0123456789abcdef0",
}
#: The AWS managed policies SAM attaches to the roles it generates.
SAM_MANAGED_POLICIES = (
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSXrayWriteOnlyAccess",
    "AWSLambdaSQSQueueExecutionRole",
)


class OfflinePolicyLoader:
    """Stands in for IAM's managed-policy listing (the only AWS call the translator makes)."""

    def load(self) -> dict[str, str]:
        return {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in SAM_MANAGED_POLICIES}


def with_s3_artifacts(template: dict[str, Any]) -> dict[str, Any]:
    """Local CodeUri/ContentUri rewritten to S3 objects, as ``sam package`` does."""
    packaged = copy.deepcopy(template)
    for name, resource in packaged["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://flip-artifacts/{name}.zip"
    return packaged


@cache
def source() -> dict[str, Any]:
    """template.yaml as data, read once (callers copy before changing it)."""
    return load_template()


def parameters(**overrides: Any) -> dict[str, Any]:
    """Every parameter's value: defaults, then the samples, then ``overrides``."""
    declared = source().get("Parameters", {})
    values = {name: spec["Default"] for name, spec in declared.items() if "Default" in spec}
    values.update(SAMPLE_PARAMETERS)
    values.update(overrides)
    missing = set(declared) - set(values)
    assert not missing, f"give SAMPLE_PARAMETERS a value for {sorted(missing)}"
    return values


@cache
def _transformed(frozen: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    values = {name: list(value) if isinstance(value, tuple) else value for name, value in frozen}
    template = with_s3_artifacts(source())
    return dict(transform(template, {**PSEUDO_PARAMETERS, **values}, OfflinePolicyLoader()))


def transformed(**overrides: Any) -> dict[str, Any]:
    """The CloudFormation template SAM makes of template.yaml for these parameters (cached; a copy)."""
    frozen = tuple(
        sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in parameters(**overrides).items())
    )
    return copy.deepcopy(_transformed(frozen))


def resolved(value: Any, resources: dict[str, dict[str, str]] | None = None, **overrides: Any) -> Any:
    """``value`` of the transformed template with its intrinsics resolved for these parameters."""
    values = {**PSEUDO_PARAMETERS, **parameters(**overrides)}
    conditions = evaluate_conditions(transformed(**overrides).get("Conditions", {}), values)
    return resolve(value, values, resources or {}, conditions)


def physical_resources(template: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Plausible physical ids and attributes of every resource (``Ref``, ``Arn``, ``QueueName``)."""
    found: dict[str, dict[str, str]] = {}
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind == "AWS::SQS::Queue":
            name = resolve(resource["Properties"]["QueueName"], {**PSEUDO_PARAMETERS, **parameters()}, {})
            arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            found[logical_id] = {
                "Ref": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
                "Arn": arn,
                "QueueName": name,
            }
        elif kind == "AWS::IAM::Role":
            name = f"flip-models-dev-{logical_id}-0A1B2C3D"
            found[logical_id] = {"Ref": name, "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}
        else:
            found[logical_id] = {"Ref": f"{logical_id}-physical"}
    return found


@dataclass(frozen=True)
class Consumer:
    """An SQS event source of the transformed template: its function, queue, DLQ and role (logical ids)."""

    function: str
    queue: str
    dead_letter_queue: str
    role: str


def _target(value: Any) -> str:
    """The logical id a ``Ref`` or ``GetAtt`` points at."""
    if "Ref" in value:
        return str(value["Ref"])
    target = value["Fn::GetAtt"]
    return str(target[0] if isinstance(target, list) else target.split(".")[0])


def function_of(resources: dict[str, Any], target: str) -> str:
    """The function a logical id names: itself, or the function of the alias (``AutoPublishAlias``)."""
    if resources[target]["Type"] == "AWS::Lambda::Alias":
        return _target(resources[target]["Properties"]["FunctionName"])
    return target


def sqs_consumers(template: dict[str, Any]) -> list[Consumer]:
    resources = template["Resources"]
    found = []
    for mapping in resources.values():
        if mapping["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        queue = _target(mapping["Properties"]["EventSourceArn"])
        if resources[queue]["Type"] != "AWS::SQS::Queue":
            continue
        function = function_of(resources, _target(mapping["Properties"]["FunctionName"]))
        redrive = resources[queue]["Properties"]["RedrivePolicy"]
        role = _target(resources[function]["Properties"]["Role"])
        found.append(Consumer(function, queue, _target(redrive["deadLetterTargetArn"]), role))
    return sorted(found, key=lambda c: c.function)


def created(**overrides: Any) -> dict[str, dict[str, Any]]:
    """The transformed template's resources CloudFormation creates for these parameters (those whose
    ``Condition`` holds)."""
    template = transformed(**overrides)
    values = {**PSEUDO_PARAMETERS, **parameters(**overrides)}
    conditions = evaluate_conditions(template.get("Conditions", {}), values)
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if conditions.get(resource.get("Condition", ""), True)
    }
