"""The SAM template transforms offline into CloudFormation (as ``sam deploy`` would, without AWS)."""

from __future__ import annotations

import pytest

from tests.template.sam import transformed


@pytest.mark.parametrize(
    "options",
    [
        {},
        {
            "CreateVpcEndpoints": "true",
            "ApiGatewayLogsRole": "existing",
            "AlarmTopicArn": "arn:aws:sns:eu-west-2:123456789012:oncall",
            "RedriveRoleArn": "arn:aws:iam::123456789012:role/redrive",
        },
    ],
    ids=["defaults", "every-option"],
)
def test_the_template_transforms_into_cloudformation(options: dict[str, str]) -> None:
    output = transformed(**options)

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
