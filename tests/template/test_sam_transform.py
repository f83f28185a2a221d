"""The SAM template transforms offline into CloudFormation (as ``sam deploy`` would, without AWS)."""

from __future__ import annotations

import copy
from typing import Any

from samtranslator.translator.transform import transform

from tests.template.test_template import load_template

PSEUDO_PARAMETERS = {
    "AWS::Region": "eu-west-2",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "flip-models-test",
    "AWS::StackId": "arn:aws:cloudformation:eu-west-2:123456789012:stack/flip-models-test/1",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}


class OfflinePolicyLoader:
    """Stands in for IAM's managed-policy listing (the only AWS call the translator makes)."""

    def load(self) -> dict[str, str]:
        names = [
            "AWSLambdaBasicExecutionRole",
            "AWSLambdaVPCAccessExecutionRole",
            "AWSXrayWriteOnlyAccess",
            "AWSLambdaSQSQueueExecutionRole",
        ]
        return {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in names}


def with_s3_artifacts(template: dict[str, Any]) -> dict[str, Any]:
    """Local CodeUri/ContentUri rewritten to S3 objects, as ``sam package`` does."""
    packaged = copy.deepcopy(template)
    for name, resource in packaged["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://flip-artifacts/{name}.zip"
    return packaged


def transformed() -> dict[str, Any]:
    template = with_s3_artifacts(load_template())
    parameters = {
        name: spec.get("Default", "placeholder") for name, spec in template.get("Parameters", {}).items()
    }
    for name, spec in template.get("Parameters", {}).items():
        if "Default" not in spec:
            kind = spec["Type"]
            if kind.startswith("List<"):
                parameters[name] = (
                    ["subnet-0123456789abcdef0"] if "Subnet" in kind else ["sg-0123456789abcdef0"]
                )
            elif name.endswith("Arn"):
                parameters[name] = f"arn:aws:iam::123456789012:role/{name}"
            else:
                parameters[name] = "placeholder"
    return dict(transform(template, {**PSEUDO_PARAMETERS, **parameters}, OfflinePolicyLoader()))


def test_the_template_transforms_into_cloudformation() -> None:
    output = transformed()

    assert "Transform" not in output
    kinds = {resource["Type"] for resource in output["Resources"].values()}
    assert "AWS::Lambda::Function" in kinds
    assert "AWS::Lambda::LayerVersion" in kinds
    assert not any(kind.startswith("AWS::Serverless::") for kind in kinds)


def test_every_function_gets_the_layer_tracing_and_arm64() -> None:
    output = transformed()
    functions = [
        r["Properties"] for r in output["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]

    assert functions
    for function in functions:
        assert function["Architectures"] == ["arm64"]
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["Runtime"].startswith("python3.1")
        assert function["Layers"], function
