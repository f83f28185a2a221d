"""The connection budget, the RDS Proxy option and the SnapStart option of template.yaml (issue 17),
checked on the template CloudFormation gets (the offline SAM transform) for the options' values."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from flip_local.template import evaluate_conditions
from tests.template import sam
from tests.template.ca_bundle import certificates
from tests.template.test_template import ROOT

SOURCE = sam.source()
PARAMETERS = SOURCE["Parameters"]
FUNCTIONS = {
    n: r["Properties"] for n, r in SOURCE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
}
#: The FL ingress (FLIP's internal routes, SPEC §10): an API of its own, with its own reservation.
INGRESS = "FlIngressFunction"
API_FUNCTIONS = sorted(
    n
    for n, p in FUNCTIONS.items()
    if n != INGRESS and any(e["Type"] == "Api" for e in p.get("Events", {}).values())
)
FL_CONSUMERS = sorted(
    n for n, p in FUNCTIONS.items() if any(e["Type"] == "SQS" for e in p.get("Events", {}).values())
)
SINGLETONS = ["FailStaleRunsFunction", "MigrateFunction"]
PROXY = {"UseRdsProxy": "true", "DbInstanceIdentifier": "flip-db"}
PROXY_RESOURCES = {"DbProxy", "DbProxyRole", "DbProxyTargetGroup", "DbProxySecurityGroup"}
#: Plausible physical values of the proxy's attributes, for resolving the functions' environment.
PHYSICAL = {
    "DbProxy": {"Ref": "flip-models-dev", "Endpoint": "flip-models-dev.proxy-abc.eu-west-2.rds.amazonaws.com"}
}


def functions(**options: Any) -> dict[str, dict[str, Any]]:
    """The Lambda functions CloudFormation gets for these parameters, by logical id."""
    return {
        name: resource["Properties"]
        for name, resource in sam.created(**options).items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def environment(function: str, **options: Any) -> dict[str, str]:
    return dict(sam.resolved(functions(**options)[function]["Environment"]["Variables"], PHYSICAL, **options))


# --- The connection budget ---


def test_every_function_has_a_bounded_concurrency() -> None:
    """API functions: ApiReservedConcurrency each; FL consumers: what their event source may run at once;
    the sweep and the migrate function: one at a time."""
    expected = {
        **dict.fromkeys(API_FUNCTIONS, 3),
        **dict.fromkeys(FL_CONSUMERS, 5),
        **dict.fromkeys(SINGLETONS, 1),
        INGRESS: 3,
    }
    assert set(expected) == set(FUNCTIONS), "a function without a bound in the connection budget"
    reserved = {name: sam.resolved(p["ReservedConcurrentExecutions"]) for name, p in functions().items()}
    assert {name: int(value) for name, value in reserved.items()} == expected
    assert len(API_FUNCTIONS) == 14


def test_the_fl_consumers_reserve_what_their_event_source_may_run() -> None:
    """Reserved below MaximumConcurrency, SQS's pollers would be throttled: they are equal."""
    resources = sam.created()
    for mapping in (
        r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ):
        function = sam.function_of(resources, mapping["FunctionName"]["Ref"])
        assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "FlMaximumConcurrency"}
        assert resources[function]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"][1] == {
            "Ref": "FlMaximumConcurrency"
        }


def test_zero_reserves_nothing_for_any_function() -> None:
    """0 is "no reservation" (for accounts without room to reserve), never Lambda's "switched off"."""
    for name, properties in functions(ApiReservedConcurrency=0).items():
        assert sam.resolved(properties["ReservedConcurrentExecutions"], ApiReservedConcurrency=0) == (
            "AWS::NoValue"
        ), name
    assert PARAMETERS["ApiReservedConcurrency"]["MinValue"] == 0


def test_the_readme_budget_adds_up_to_the_template_defaults() -> None:
    """The README's table: worst-case connections at the defaults, within max_connections (100) less the
    administrators' reserve and the rest of FLIP's."""
    defaults = {name: int(spec["Default"]) for name, spec in PARAMETERS.items() if spec["Type"] == "Number"}
    worst_case = (
        len(API_FUNCTIONS) * defaults["ApiReservedConcurrency"]
        + len(FL_CONSUMERS) * defaults["FlMaximumConcurrency"]
        + len(SINGLETONS)
        + defaults["FlIngressReservedConcurrency"]
    )
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Connection budget", 1)[1].split("\n## ", 1)[0]
    total = re.search(r"\| \*\*the model service, worst case\*\* \| .* \| \*\*(\d+)\*\* \|", section)
    available = re.search(r"\| \*\*left for the model service\*\* \| .* \| \*\*(\d+)\*\* \|", section)
    assert total is not None, "the README's budget table lost its total"
    assert available is not None, "the README's budget table lost what is left for the service"
    assert int(total.group(1)) == worst_case
    assert worst_case <= int(available.group(1))


def test_the_default_stage_throttling_stays_under_the_default_reservation() -> None:
    """Callers should meet API Gateway's 429 before Lambda's refusal (a 500): per method, the rate times
    a p99 of 0.1 s plus the burst fits in a function's reserved containers (README, "Sizing it")."""
    defaults = {name: int(spec["Default"]) for name, spec in PARAMETERS.items() if spec["Type"] == "Number"}
    in_flight = defaults["ApiThrottlingRateLimit"] * 0.1 + defaults["ApiThrottlingBurstLimit"]
    assert in_flight <= defaults["ApiReservedConcurrency"]
    ingress = defaults["FlIngressThrottlingRateLimit"] * 0.1 + defaults["FlIngressThrottlingBurstLimit"]
    assert ingress <= defaults["FlIngressReservedConcurrency"]


def test_the_stage_throttles_each_method_and_answers_429_in_the_apis_error_shape() -> None:
    api = sam.transformed()["Resources"]
    [stage] = [
        r["Properties"]
        for r in api.values()
        if r["Type"] == "AWS::ApiGateway::Stage" and r["Properties"]["RestApiId"] == {"Ref": "FlipApi"}
    ]
    assert stage["MethodSettings"] == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
        }
    ]
    throttled = api["FlipApi"]["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]["THROTTLED"]
    assert str(throttled["statusCode"]) == "429"
    headers = throttled["responseParameters"]
    assert headers["gatewayresponse.header.Retry-After"] == "'1'"
    assert "gatewayresponse.header.Access-Control-Allow-Origin" in headers
    body = json.loads(throttled["responseTemplates"]["application/json"])
    assert body["statusCode"] == 429
    assert body["message"]


# --- RDS Proxy ---


def test_without_the_option_there_is_no_proxy_and_the_functions_connect_directly() -> None:
    assert PROXY_RESOURCES.isdisjoint(sam.created())
    for name in FUNCTIONS:
        variables = environment(name)
        assert (variables["DB_HOST"], variables["DB_BEHIND_POOLER"]) == ("", "false"), name


def test_with_the_option_the_functions_reach_the_database_through_the_proxy() -> None:
    assert sam.created(**PROXY).keys() >= PROXY_RESOURCES
    for name in FUNCTIONS:
        variables = environment(name, **PROXY)
        if name == "MigrateFunction":  # the owner's secret is not the proxy's; migrations set session limits
            assert (variables["DB_HOST"], variables["DB_BEHIND_POOLER"]) == ("", "false")
        else:
            assert variables["DB_HOST"] == PHYSICAL["DbProxy"]["Endpoint"], name
            assert variables["DB_BEHIND_POOLER"] == "true", name
            assert variables["DB_SSL"] == "true"
            assert variables["DB_SECRET_ARN"] == sam.SAMPLE_PARAMETERS["DbSecretArn"]


def test_the_proxy_requires_tls_and_logs_in_with_the_runtime_secret() -> None:
    proxy = sam.resolved(sam.created(**PROXY)["DbProxy"]["Properties"], **PROXY)
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert proxy["RequireTLS"] is True
    assert proxy["Auth"] == [
        {
            "AuthScheme": "SECRETS",
            "SecretArn": sam.SAMPLE_PARAMETERS["DbSecretArn"],
            "IAMAuth": "DISABLED",
            "ClientPasswordAuthType": "POSTGRES_SCRAM_SHA_256",
        }
    ]
    assert proxy["VpcSubnetIds"] == sam.SAMPLE_PARAMETERS["SubnetIds"]


def test_the_proxys_role_reads_the_runtime_secret_and_nothing_else() -> None:
    role = sam.resolved(sam.created(**PROXY)["DbProxyRole"]["Properties"], **PROXY)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
        ("Allow", "secretsmanager:GetSecretValue", sam.SAMPLE_PARAMETERS["DbSecretArn"])
    ]
    assert "ManagedPolicyArns" not in role


def test_the_proxy_admits_the_functions_on_postgresqls_port_only() -> None:
    group = sam.resolved(sam.created(**PROXY)["DbProxySecurityGroup"]["Properties"], **PROXY)
    assert group["SecurityGroupIngress"] == [
        {
            "Description": group["SecurityGroupIngress"][0]["Description"],
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "SourceSecurityGroupId": sam.SAMPLE_PARAMETERS["SecurityGroupIds"][0],
        }
    ]


@pytest.mark.parametrize(
    ("options", "instances", "clusters"),
    [
        ({"DbInstanceIdentifier": "flip-db"}, ["flip-db"], "AWS::NoValue"),
        ({"DbClusterIdentifier": "flip-aurora"}, "AWS::NoValue", ["flip-aurora"]),
    ],
    ids=["instance", "cluster"],
)
def test_the_target_group_names_the_instance_or_the_cluster(
    options: dict[str, str], instances: object, clusters: object
) -> None:
    values = {"UseRdsProxy": "true", **options}
    group = sam.resolved(sam.created(**values)["DbProxyTargetGroup"]["Properties"], **values)
    assert group["TargetGroupName"] == "default"
    assert (group["DBInstanceIdentifiers"], group["DBClusterIdentifiers"]) == (instances, clusters)
    assert group["ConnectionPoolConfigurationInfo"]["MaxConnectionsPercent"] == 50


@pytest.mark.parametrize(
    ("options", "accepted"),
    [
        ({"UseRdsProxy": "true"}, False),
        ({"UseRdsProxy": "true", "DbInstanceIdentifier": "a"}, True),
        ({"UseRdsProxy": "true", "DbClusterIdentifier": "c"}, True),
        ({"UseRdsProxy": "true", "DbInstanceIdentifier": "a", "DbClusterIdentifier": "c"}, False),
        ({}, True),
    ],
)
def test_the_rule_refuses_a_proxy_without_exactly_one_database(
    options: dict[str, str], accepted: bool
) -> None:
    """CloudFormation checks the template's Rules before it changes anything; evaluated here the same way."""
    rule = sam.transformed()["Rules"]["RdsProxyHasOneDatabase"]
    values = sam.parameters(**options)
    applies = evaluate_conditions({"applies": rule["RuleCondition"]}, values)["applies"]
    results = evaluate_conditions({str(i): a["Assert"] for i, a in enumerate(rule["Assertions"])}, values)
    assert (not applies or all(results.values())) is accepted


def test_the_layers_ca_bundle_trusts_rds_proxys_certificates() -> None:
    """RDS Proxy's certificates chain to the Amazon Root CAs, not to the RDS CAs: DB_SSL_ROOT_CERT (the
    layer's bundle) must hold both, or a function could not verify the proxy."""
    subjects = {certificate.subject for certificate in certificates()}
    assert {f"CN=Amazon Root CA {n},O=Amazon,C=US" for n in (1, 2, 3, 4)} <= subjects


# --- SnapStart, published versions and the "live" alias ---


@pytest.mark.parametrize("snapstart", ["true", "false"])
def test_snapstart_applies_to_the_published_versions_of_every_function_but_migrate(snapstart: str) -> None:
    for name, properties in functions(UseSnapStart=snapstart).items():
        applied = sam.resolved(properties["SnapStart"]["ApplyOn"], UseSnapStart=snapstart)
        on = snapstart == "true" and name != "MigrateFunction"
        assert applied == ("PublishedVersions" if on else "None"), name
        assert properties["Runtime"] == "python3.12"  # SnapStart for Python starts at 3.12


def test_every_invoker_calls_the_live_alias_of_a_published_version() -> None:
    resources = sam.transformed(UseSnapStart="true")["Resources"]
    aliases = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::Lambda::Alias"}
    assert {a["FunctionName"]["Ref"] for a in aliases.values()} == set(FUNCTIONS)
    for alias in aliases.values():
        assert alias["Name"] == "live"
        version = alias["FunctionVersion"]["Fn::GetAtt"][0]
        assert resources[version]["Type"] == "AWS::Lambda::Version"
    permissions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert permissions
    assert all(p["FunctionName"]["Ref"] in aliases for p in permissions)
    mappings = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert sorted(m["FunctionName"]["Ref"] for m in mappings) == sorted(f"{n}Aliaslive" for n in FL_CONSUMERS)
    paths = resources["FlipApi"]["Properties"]["Body"]["paths"]
    uris = [
        op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for path, ops in paths.items()
        if path != "/{proxy+}"  # FlipApiUrl's proxy to flip-api (HTTP), no function
        for m, op in ops.items()
        if m != "options"
    ]
    assert uris
    assert all(re.search(r"\$\{\w+Aliaslive\}/invocations$", uri) for uri in uris), uris


def parameters_read(value: Any, conditions: dict[str, Any]) -> set[str]:
    """The template parameters ``value`` reads: Refs, ``${...}`` of Subs, and those of its conditions."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= parameters_read(item, conditions)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and item in PARAMETERS:
                found.add(item)
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found |= {name for name in re.findall(r"\$\{([^}.!]+)\}", text) if name in PARAMETERS}
                found |= parameters_read(item if isinstance(item, list) else [], conditions)
            elif key in ("Fn::If", "Condition"):
                name = item[0] if key == "Fn::If" else item
                found |= parameters_read(conditions[name], conditions)
                found |= parameters_read(item[1:] if key == "Fn::If" else [], conditions)
            else:
                found |= parameters_read(item, conditions)
    return found


#: What a function's configuration may read without a new version: its name (a new Stage is a new
#: function), what Lambda keeps per function, not per version (reserved concurrency), and the network:
#: spelling out SubnetIds and SecurityGroupIds takes an Fn::Join over a List parameter, which
#: LocalStack's CloudFormation cannot evaluate (its stacks then cannot even be deleted); README,
#: "SnapStart", says how to publish after a network-only change.
UNVERSIONED = {
    "Stage",
    "ApiReservedConcurrency",
    "FlMaximumConcurrency",
    "FlIngressReservedConcurrency",
    "SubnetIds",
    "SecurityGroupIds",
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_parameter_the_functions_configuration_reads_publishes_a_new_version(name: str) -> None:
    """The alias runs a published version, which keeps the configuration it was published with. SAM
    publishes one when the code, the layer or the template's text changes, not when only a parameter
    does: every parameter the function's configuration reads is in its VersionDescription, a property
    that replaces the version when it changes."""
    properties = {**SOURCE["Globals"]["Function"], **FUNCTIONS[name]}
    properties["Environment"] = {
        "Variables": {
            **SOURCE["Globals"]["Function"]["Environment"]["Variables"],
            **FUNCTIONS[name].get("Environment", {}).get("Variables", {}),
        }
    }
    configuration = {
        k: v for k, v in properties.items() if k not in ("Events", "Policies", "VersionDescription")
    }
    conditions = SOURCE["Conditions"]
    read = parameters_read(configuration, conditions) - UNVERSIONED
    described = parameters_read(FUNCTIONS[name]["VersionDescription"], conditions)

    assert read - described == set(), "add these to the function's VersionDescription"
    assert FUNCTIONS[name]["AutoPublishAliasAllProperties"] is True
    assert SOURCE["Resources"]["SharedLayer"]["Properties"]["PublishLambdaVersion"] is True


def test_the_version_description_changes_with_the_options_and_fits_lambdas_limit() -> None:
    generous = {
        "CorsAllowOrigin": "https://flip-research-platform.trust-name.nhs.uk",
        "DbSecretArn": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:flip-models/runtime-role-AbCdEf",
    }
    resources = sam.transformed()["Resources"]
    versions = [
        r["Properties"]["Description"] for r in resources.values() if r["Type"] == "AWS::Lambda::Version"
    ]
    assert len(versions) == len(FUNCTIONS)
    for description in versions:
        assert len(sam.resolved(description, **generous)) <= 256  # Lambda's limit on a version's description
        assert sam.resolved(description, UseSnapStart="true") != sam.resolved(description)
        assert sam.resolved(description, **PROXY) != sam.resolved(description)
