"""template.yaml built with ``sam build`` and deployed with ``sam deploy`` to LocalStack's CloudFormation.

One stage of this run's own is deployed once for the module (flip_local.localstack_deploy, what
``make deploy-local`` runs), updated with other parameter values as an operator would, inspected
through LocalStack's APIs, and deleted with everything it kept.

LocalStack runs no Lambda code (its ``flip-refuse`` executor, scripts/localstack_plugins): functions are
created ``Active`` and their configuration is checked, never their behaviour, which the handler and
integration tests cover. What LocalStack does not apply (gateway responses, security group rules) is
checked on the template CloudFormation was given (the stack's processed template).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flip_local.localstack_deploy import ACCOUNT, LocalDeployment, unique_stage
from flip_local.template import resolve
from tests.iam_policy import evaluate
from tests.queue_policy_cases import Roles, dead_letter_queue_cases, source_queue_cases
from tests.template import sam
from tests.template.test_template import ROOT

pytestmark = pytest.mark.localstack


#: The update: a smaller fl-logs batch and fewer concurrent FL consumers. (Not an alarm: LocalStack's
#: CloudFormation does not update alarms; not the API: it cannot update a stage.)
UPDATE = {"FlLogsBatchSize": "20", "FlMaximumConcurrency": "4"}
#: The greedy proxy to an existing flip-api (issue 24), on from the first deploy.
FLIP_API_URL = "http://flip-api.internal:8000/api"


@dataclass
class Deployed:
    deployment: LocalDeployment
    parameters: dict[str, str]  # as updated
    outputs: dict[str, str]
    created: dict[str, str]  # the stack's and each resource's status after the first deploy
    mappings_created: dict[str, str]  # event source ARN → the mapping's state after the first deploy

    def client(self, service: str) -> Any:
        return self.deployment.client(service)

    @property
    def stage(self) -> str:
        return self.deployment.stage


def _nothing_left(deployment: LocalDeployment) -> list[str]:
    """Whatever of the stage is still in LocalStack after the delete."""
    left = []
    stacks = deployment.client("cloudformation").list_stacks()["StackSummaries"]
    left += [
        s["StackName"]
        for s in stacks
        if s["StackName"] == deployment.stack_name and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    queues = deployment.client("sqs").list_queues().get("QueueUrls", [])
    left += [q for q in queues if q.rsplit("/", 1)[-1].removesuffix(".fifo").endswith(f"-{deployment.stage}")]
    groups = deployment.client("logs").describe_log_groups()["logGroups"]
    left += [g["logGroupName"] for g in groups if f"-{deployment.stage}" in g["logGroupName"]]
    return left


def _unchecked_bytecode(source: Path) -> bool:
    """``source`` has CPython 3.12 bytecode beside it that the runtime uses without reading the source
    (PEP 552 flags: hash-based, source not checked), as ``shared/Makefile`` compiles the layer."""
    compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
    return compiled.is_file() and int.from_bytes(compiled.read_bytes()[4:8], "little") == 0b01


@pytest.fixture(scope="module")
def deployed(localstack_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    deployment = LocalDeployment(
        unique_stage(), localstack_endpoint, build_dir=tmp_path_factory.mktemp("sam") / "build"
    )
    deployment.check_executor()
    try:
        parameters = deployment.parameters() | {"FlipApiUrl": FLIP_API_URL}
        deployment.build()
        deployment.deploy(parameters)
        created = {"stack": deployment.stack()["StackStatus"]}
        created |= {name: r["ResourceStatus"] for name, r in deployment.resources().items()}
        # (After an update LocalStack's experimental mapping update may leave mappings Disabled.)
        mappings = deployment.client("lambda").list_event_source_mappings()["EventSourceMappings"]
        mappings_created = {m["EventSourceArn"]: m["State"] for m in mappings}
        deployment.timings["first sam deploy"] = deployment.timings["sam deploy"]
        parameters |= UPDATE
        outputs = deployment.deploy(parameters)
        yield Deployed(deployment, parameters, outputs, created, mappings_created)
    finally:
        deployment.delete()
        print(
            f"\nLocalStack deploy of {deployment.stack_name}: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in deployment.timings.items())
        )
    assert _nothing_left(deployment) == []


def expected_resources(deployed: Deployed) -> dict[str, dict[str, Any]]:
    """What the template makes for the deployed parameters (SAM transform, conditions applied)."""
    values = {
        k: v.split(",") if k in ("SubnetIds", "SecurityGroupIds") else v
        for k, v in deployed.parameters.items()
    }
    return sam.created(**values)


def queue_names(deployed: Deployed, which: str) -> list[str]:
    """The deployed names of every SQS consumer's ``queue`` or ``dead_letter_queue``."""
    resources = deployed.deployment.resources()
    return [
        resources[getattr(consumer, which)]["PhysicalResourceId"].rsplit("/", 1)[-1]
        for consumer in sam.sqs_consumers(sam.transformed())
    ]


def function_names(deployed: Deployed) -> dict[str, str]:
    """Logical id → deployed name of every function of the stack."""
    return {
        logical_id: resource["PhysicalResourceId"]
        for logical_id, resource in deployed.deployment.resources().items()
        if resource["ResourceType"] == "AWS::Lambda::Function"
    }


def test_the_stack_is_created_then_updated_with_every_resource_the_template_makes(deployed: Deployed) -> None:
    resources = deployed.deployment.resources()
    expected = expected_resources(deployed)

    assert set(deployed.created.values()) == {"CREATE_COMPLETE"}
    assert deployed.deployment.stack()["StackStatus"] == "UPDATE_COMPLETE"
    assert {r["ResourceStatus"] for r in resources.values()} <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}

    def ids(names: Any) -> set[str]:  # the ids of a layer version, a deployment and a version carry a hash
        return {
            n
            for n in names
            if not n.startswith(("FlipApiDeployment", "SharedLayer"))
            and not re.search(r"Version[0-9a-f]{10}$", n)
        }

    assert ids(resources) == ids(expected)
    kinds = Counter(r["ResourceType"] for r in resources.values())
    assert kinds == Counter(r["Type"] for r in expected.values())
    assert {"AWS::Lambda::EventSourceMapping", "AWS::CloudWatch::Dashboard", "AWS::EC2::VPCEndpoint"} <= set(
        kinds
    )


def test_the_built_layer_holds_the_locked_dependencies_and_the_ca_bundle_the_functions_name(
    deployed: Deployed,
) -> None:
    layer = deployed.deployment.build_dir / "SharedLayer"
    bundle_path = sam.source()["Globals"]["Function"]["Environment"]["Variables"]["DB_SSL_ROOT_CERT"]
    built_bundle = layer / Path(bundle_path).relative_to("/opt")
    requirements = (ROOT / "shared" / "requirements.txt").read_text()
    pinned = {
        name.replace("_", "-"): version
        for name, version in re.findall(r"^([a-z0-9._-]+)==(\S+)", requirements, re.M)
    }
    installed = dict(
        d.name.removesuffix(".dist-info").lower().replace("_", "-").rsplit("-", 1)
        for d in (layer / "python").glob("*.dist-info")
    )
    compiled = [p.name for p in (layer / "python").rglob("*.so")]

    assert built_bundle.read_bytes() == (ROOT / "shared" / "certs" / built_bundle.name).read_bytes()
    assert installed == pinned
    assert (layer / "python" / "flip_models" / "__init__.py").is_file()
    sources = list((layer / "python").rglob("*.py"))
    assert sources
    assert all(_unchecked_bytecode(source) for source in sources), "a module of the layer ships no bytecode"
    assert compiled
    assert all("aarch64" in name for name in compiled), compiled
    for name in function_names(deployed).values():
        configuration = deployed.client("lambda").get_function_configuration(FunctionName=name)
        assert configuration["Environment"]["Variables"]["DB_SSL_ROOT_CERT"] == bundle_path


def test_every_function_is_active_with_its_configuration(deployed: Deployed) -> None:
    lambda_ = deployed.client("lambda")
    layer_arn = deployed.outputs["SharedLayerArn"]
    source = sam.source()["Resources"]
    processed = deployed.client("cloudformation").get_template(
        StackName=deployed.deployment.stack_name, TemplateStage="Processed"
    )["TemplateBody"]

    for logical_id, name in function_names(deployed).items():
        configuration = lambda_.get_function_configuration(FunctionName=name)
        variables = configuration["Environment"]["Variables"]
        properties = source[logical_id]["Properties"]
        is_api = any(e["Type"] == "Api" for e in properties.get("Events", {}).values())

        assert configuration["State"] == "Active", name
        assert (configuration["Runtime"], configuration["Architectures"]) == ("python3.12", ["arm64"])
        assert [layer["Arn"] for layer in configuration["Layers"]] == [layer_arn]
        assert configuration["VpcConfig"]["SubnetIds"] == deployed.parameters["SubnetIds"].split(",")
        assert configuration["VpcConfig"]["SecurityGroupIds"] == deployed.parameters[
            "SecurityGroupIds"
        ].split(",")
        assert configuration["LoggingConfig"]["LogGroup"] == f"/aws/lambda/{name}"
        assert configuration["TracingConfig"]["Mode"] == "Active"
        secret = "MigrationSecretArn" if logical_id == "MigrateFunction" else "DbSecretArn"
        assert variables["DB_SECRET_ARN"] == deployed.parameters[secret], name
        assert variables["DB_SSL"] == "true"
        if is_api:
            assert configuration["Timeout"] <= 28, name
        if is_api and logical_id != "FlIngressFunction":  # the FL ingress is called by servers, not browsers
            assert variables["CORS_ALLOW_ORIGIN"] == deployed.parameters["CorsAllowOrigin"]
        # The connection budget: every function's concurrency is reserved (README, "Connection budget").
        # LocalStack's CloudFormation does not apply ReservedConcurrentExecutions: where it did not, the
        # template it was given says it.
        expected = int(sam.resolved(properties["ReservedConcurrentExecutions"], **deployed.parameters))
        reserved = lambda_.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
        given = processed["Resources"][logical_id]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved in (None, expected), name
        assert int(sam.resolved(given, **deployed.parameters)) == expected, name
        # What API Gateway, the queues and the schedule invoke: the "live" alias of a published version.
        alias = lambda_.get_alias(FunctionName=name, Name="live")
        assert alias["FunctionVersion"] != "$LATEST", name
        published = lambda_.get_function_configuration(FunctionName=name, Qualifier=alias["FunctionVersion"])
        assert published["Environment"]["Variables"] == variables, name


def test_the_queues_and_their_consumers_are_wired_as_the_template_says(deployed: Deployed) -> None:
    sqs, lambda_ = deployed.client("sqs"), deployed.client("lambda")
    resources = deployed.deployment.resources()
    template = sam.transformed()
    mappings = lambda_.list_event_source_mappings()["EventSourceMappings"]

    for consumer in sam.sqs_consumers(template):
        queue_url = resources[consumer.queue]["PhysicalResourceId"]
        dlq_url = resources[consumer.dead_letter_queue]["PhysicalResourceId"]
        queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
        source = template["Resources"][consumer.queue]["Properties"]
        function = resources[consumer.function]["PhysicalResourceId"]
        [mapping] = [m for m in mappings if m["EventSourceArn"] == queue["QueueArn"]]
        event = next(iter(sam.source()["Resources"][consumer.function]["Properties"]["Events"].values()))[
            "Properties"
        ]

        assert json.loads(queue["RedrivePolicy"]) == {
            "deadLetterTargetArn": dlq["QueueArn"],
            "maxReceiveCount": 5,
        }
        assert json.loads(dlq["RedriveAllowPolicy"]) == {
            "redrivePermission": "byQueue",
            "sourceQueueArns": [queue["QueueArn"]],
        }
        assert int(queue["VisibilityTimeout"]) == source["VisibilityTimeout"]
        assert queue["SqsManagedSseEnabled"] == dlq["SqsManagedSseEnabled"] == "true"
        assert (
            queue.get("FifoQueue", "false")
            == dlq.get("FifoQueue", "false")
            == str(bool(source.get("FifoQueue"))).lower()
        )
        assert mapping["FunctionArn"].endswith(f":function:{function}:live")  # the alias (AutoPublishAlias)
        assert deployed.mappings_created[queue["QueueArn"]] == "Enabled"
        assert mapping["BatchSize"] == int(
            deployed.parameters.get(event["BatchSize"]["Ref"], sam.parameters()[event["BatchSize"]["Ref"]])
        )
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        concurrency = int(deployed.parameters["FlMaximumConcurrency"])
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": concurrency}
        configuration = lambda_.get_function_configuration(FunctionName=function)
        assert configuration["Environment"]["Variables"]["DEAD_LETTER_QUEUE_URL"] == dlq_url
        assert configuration["Role"].split("/")[-1] == resources[consumer.role]["PhysicalResourceId"]


def test_the_deployed_queue_policies_let_only_the_named_roles_send(deployed: Deployed) -> None:
    sqs = deployed.client("sqs")
    resources = deployed.deployment.resources()
    consumers = sam.sqs_consumers(sam.transformed())

    for consumer in consumers:
        other = next(c for c in consumers if c != consumer)

        def attributes(logical_id: str) -> dict[str, str]:
            url = resources[logical_id]["PhysicalResourceId"]
            return dict(
                sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "QueueArn"])["Attributes"]
            )

        def role_arn(logical_id: str) -> str:
            return f"arn:aws:iam::{ACCOUNT}:role/{resources[logical_id]['PhysicalResourceId']}"

        roles = Roles(
            ACCOUNT,
            deployed.parameters["FlServerRoleArn"],
            role_arn(consumer.role),
            role_arn(other.role),
            deployed.parameters["RedriveRoleArn"],
            role_arn("FlIngressFunctionRole"),
        )
        queue, dlq = attributes(consumer.queue), attributes(consumer.dead_letter_queue)
        cases = [(json.loads(queue["Policy"]), case) for case in source_queue_cases(roles, queue["QueueArn"])]
        cases += [
            (json.loads(dlq["Policy"]), case) for case in dead_letter_queue_cases(roles, dlq["QueueArn"])
        ]
        for policy, (request, expected) in cases:
            assert evaluate(policy, request, ACCOUNT) == expected, (consumer.queue, request)


def test_the_api_has_every_route_behind_cognito_and_logs_each_request(deployed: Deployed) -> None:
    gateway = deployed.client("apigateway")
    [api] = [a for a in gateway.get_rest_apis()["items"] if a["name"] == f"flip-models-api-{deployed.stage}"]
    resources = gateway.get_resources(restApiId=api["id"])["items"]
    methods = {
        (resource["path"], method.lower()): resource["id"]
        for resource in resources
        for method in resource.get("resourceMethods", {})
        if method != "OPTIONS"
    }
    documented = json.loads((ROOT / "openapi.json").read_text())["paths"]
    [authorizer] = gateway.get_authorizers(restApiId=api["id"])["items"]
    stage = gateway.get_stage(restApiId=api["id"], stageName=deployed.stage)
    log_format = json.loads(stage["accessLogSettings"]["format"])

    assert set(methods) == {(path, method) for path, item in documented.items() for method in item} | {
        ("/{proxy+}", "any")
    }
    for (_, method), resource_id in methods.items():
        configured = gateway.get_method(
            restApiId=api["id"], resourceId=resource_id, httpMethod=method.upper()
        )
        assert configured["authorizerId"] == authorizer["id"]
    assert authorizer["type"] == "COGNITO_USER_POOLS"
    assert authorizer["providerARNs"] == [deployed.parameters["CognitoUserPoolArn"]]
    destination = stage["accessLogSettings"]["destinationArn"]
    assert destination.split(":log-group:")[1].removesuffix(":*") == deployed.outputs["ApiAccessLogGroupName"]
    assert {"requestId", "caller", "route", "status", "latencyMs"} <= set(log_format)
    assert stage["tracingEnabled"] is True
    role = deployed.deployment.resources()["ApiGatewayCloudWatchRole"]["PhysicalResourceId"]
    assert gateway.get_account()["cloudwatchRoleArn"].endswith(f":role/{role}")
    # LocalStack keeps its own gateway responses: check the definition CloudFormation was given.
    processed = deployed.client("cloudformation").get_template(
        StackName=deployed.deployment.stack_name, TemplateStage="Processed"
    )["TemplateBody"]
    responses = processed["Resources"]["FlipApi"]["Properties"]["Body"][
        "x-amazon-apigateway-gateway-responses"
    ]
    unauthorized = responses["UNAUTHORIZED"]
    assert str(unauthorized["statusCode"]) == "401"
    assert '"statusCode": 401' in unauthorized["responseTemplates"]["application/json"]
    assert "gatewayresponse.header.Access-Control-Allow-Origin" in unauthorized["responseParameters"]


def test_every_alarm_exists_and_notifies_the_stacks_topic(deployed: Deployed) -> None:
    cloudwatch = deployed.client("cloudwatch")
    alarms = [
        a
        for a in cloudwatch.describe_alarms(AlarmNamePrefix="flip-models-", MaxRecords=100)["MetricAlarms"]
        if a["AlarmName"].endswith(f"-{deployed.stage}")
    ]
    names = set(function_names(deployed).values())
    topic = deployed.outputs["AlarmTopicArn"]

    assert len(alarms) == sum(
        1 for r in expected_resources(deployed).values() if r["Type"] == "AWS::CloudWatch::Alarm"
    )
    assert topic.endswith(f":flip-models-alarms-{deployed.stage}")
    for alarm in alarms:
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic], alarm["AlarmName"]
    for metric in ("Errors", "Throttles"):
        watched = {d["Value"] for a in alarms if a["MetricName"] == metric for d in a["Dimensions"]}
        assert watched == names, metric
    ages = {
        d["Value"]
        for a in alarms
        if a["MetricName"] == "ApproximateAgeOfOldestMessage"
        for d in a["Dimensions"]
    }
    assert ages == set(queue_names(deployed, "queue"))


def test_the_dashboard_shows_the_deployed_api_queues_and_database_errors(deployed: Deployed) -> None:
    name = deployed.outputs["DashboardName"]
    body = json.loads(deployed.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    text = json.dumps(body)

    assert name == f"flip-models-{deployed.stage}"
    assert f'"ApiName", "flip-models-api-{deployed.stage}"' in text
    for queue in queue_names(deployed, "queue") + queue_names(deployed, "dead_letter_queue"):
        assert f'"QueueName", "{queue}"' in text
    assert '"ApiUnavailable"' in text
    assert '"FLMessagesRetried"' in text


def test_the_vpc_endpoints_serve_the_functions_subnets(deployed: Deployed) -> None:
    ec2 = deployed.client("ec2")
    vpc = deployed.parameters["VpcId"]  # (LocalStack ignores a vpc-id filter on endpoints)
    # The stack's endpoints; the FL servers' execute-api endpoint (FlIngressVpcEndpointIds) is the network's.
    endpoints = [
        e
        for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
        if e["VpcId"] == vpc and not e["ServiceName"].endswith(".execute-api")
    ]
    assert endpoints, ec2.describe_vpc_endpoints()["VpcEndpoints"]
    [group_id] = {g["GroupId"] for e in endpoints for g in e["Groups"]}
    [group] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]

    assert sorted(e["ServiceName"] for e in endpoints) == [
        "com.amazonaws.eu-west-2.secretsmanager",
        "com.amazonaws.eu-west-2.sqs",
    ]
    for endpoint in endpoints:
        assert endpoint["VpcEndpointType"] == "Interface"
        assert endpoint["PrivateDnsEnabled"] is True
        assert sorted(endpoint["SubnetIds"]) == sorted(deployed.parameters["SubnetIds"].split(","))
    assert group["VpcId"] == vpc
    # LocalStack creates security groups without their rules: check those CloudFormation was given.
    processed = deployed.client("cloudformation").get_template(
        StackName=deployed.deployment.stack_name, TemplateStage="Processed"
    )["TemplateBody"]
    properties = processed["Resources"]["VpcEndpointSecurityGroup"]["Properties"]
    values = {"SecurityGroupIds": deployed.parameters["SecurityGroupIds"].split(","), "VpcId": vpc}
    [rule] = resolve(properties["SecurityGroupIngress"], values, {})
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443)
    assert rule["SourceSecurityGroupId"] == values["SecurityGroupIds"][0]


def test_the_update_changed_what_its_parameters_say(deployed: Deployed) -> None:
    resources = deployed.deployment.resources()
    arns = {}
    for queue in ("FlLogsQueue", "FlStatusQueue"):
        url = resources[queue]["PhysicalResourceId"]
        arns[queue] = deployed.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    mappings = {
        m["EventSourceArn"]: m
        for m in deployed.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    }

    assert {key: str(sam.parameters()[key]) for key in UPDATE} != UPDATE  # not the defaults
    assert mappings[arns["FlLogsQueue"]]["BatchSize"] == int(UPDATE["FlLogsBatchSize"])
    assert mappings[arns["FlStatusQueue"]]["BatchSize"] == int(sam.parameters()["FlStatusBatchSize"])
    for mapping in mappings.values():
        if mapping["EventSourceArn"] in arns.values():
            assert mapping["ScalingConfig"] == {"MaximumConcurrency": int(UPDATE["FlMaximumConcurrency"])}


def test_every_other_route_goes_through_to_flip_api(deployed: Deployed) -> None:
    """With FlipApiUrl, /{proxy+} (ANY) is an HTTP proxy to flip-api in the stage's deployment,
    behind the same authorizer; the model routes keep their functions (the test above)."""
    gateway = deployed.client("apigateway")
    [api] = [a for a in gateway.get_rest_apis()["items"] if a["name"] == f"flip-models-api-{deployed.stage}"]
    [proxy] = [r for r in gateway.get_resources(restApiId=api["id"])["items"] if r["path"] == "/{proxy+}"]
    method = gateway.get_method(restApiId=api["id"], resourceId=proxy["id"], httpMethod="ANY")
    integration = method["methodIntegration"]
    assert integration["type"] == "HTTP_PROXY"
    assert integration["uri"] == f"{deployed.parameters['FlipApiUrl']}/{{proxy}}"
    assert integration["timeoutInMillis"] == 29000
    assert method["authorizationType"] == "COGNITO_USER_POOLS"
    assert method["requestParameters"] == {"method.request.path.proxy": True}


def test_the_fl_ingress_is_a_private_api_of_its_own_that_sends_to_the_fl_queues(deployed: Deployed) -> None:
    gateway = deployed.client("apigateway")
    [api] = [
        a for a in gateway.get_rest_apis()["items"] if a["name"] == f"flip-models-fl-ingress-{deployed.stage}"
    ]
    resources = gateway.get_resources(restApiId=api["id"])["items"]
    methods = {
        (resource["path"], method.lower())
        for resource in resources
        for method in resource.get("resourceMethods", {})
    }
    stage = gateway.get_stage(restApiId=api["id"], stageName=deployed.stage)
    endpoint = deployed.parameters["FlIngressVpcEndpointIds"]

    assert methods == {
        ("/api/model/{modelId}/status/{status}", "put"),
        ("/api/model/{modelId}/logs", "post"),
        ("/api/model/{modelId}/metrics", "post"),
    }
    assert api["endpointConfiguration"]["types"] == ["PRIVATE"]
    assert api["endpointConfiguration"].get("vpcEndpointIds", [endpoint]) == [endpoint]
    policy = (
        json.loads(api["policy"].replace('\\"', '"')) if isinstance(api.get("policy"), str) else api["policy"]
    )
    [deny] = [statement for statement in policy["Statement"] if statement["Effect"] == "Deny"]
    assert deny["Condition"]["StringNotEquals"]["aws:SourceVpce"] in (endpoint, [endpoint])
    assert (
        stage["accessLogSettings"]["destinationArn"].split(":log-group:")[1].removesuffix(":*")
        == (deployed.outputs["FlIngressAccessLogGroupName"])
    )
    assert deployed.outputs["FlIngressUrl"].endswith(f"/{deployed.stage}")
    lambda_ = deployed.client("lambda")
    function = lambda_.get_function_configuration(FunctionName=f"flip-models-fl-ingress-{deployed.stage}")
    variables = function["Environment"]["Variables"]
    assert variables["FL_STATUS_QUEUE_URL"] == deployed.outputs["FlStatusQueueUrl"]
    assert variables["FL_LOGS_QUEUE_URL"] == deployed.outputs["FlLogsQueueUrl"]
    assert variables["INTERNAL_SERVICE_KEY_SECRET_ARN"] == deployed.parameters["InternalServiceKeySecretArn"]
    assert function["State"] == "Active"
