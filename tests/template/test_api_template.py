"""The HTTP API in template.yaml, checked through an offline SAM transform (what CloudFormation gets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.template import sam
from tests.template.sam import POOL_ARN
from tests.template.test_template import ROOT, functions, load_template

SPEC_ROUTES = {
    ("/model", "post"),
    ("/model/{modelId}", "get"),
    ("/model/{modelId}", "put"),
    ("/model/{modelId}", "delete"),
    ("/project/{projectId}/models", "delete"),
    ("/model/{modelId}/status", "get"),
    ("/model/{modelId}/status/{status}", "patch"),
    ("/model/{modelId}/metrics", "get"),
    ("/model/{modelId}/logs", "get"),
    ("/model/{modelId}/trusts", "get"),
    ("/model/{modelId}/progress", "get"),
    ("/models", "get"),
    ("/models/projects", "get"),
    ("/model/job-types", "get"),
    ("/step/model/{modelId}", "post"),
}
#: Routes that are one operation under two paths (the web app's model page is a POST to /step/...).
SAME_OPERATION = {("/step/model/{modelId}", "post"): ("/model/{modelId}", "get")}
#: The scopes of the FLIP web app's access tokens: user-pool sign-in (Amplify) and the hosted UI.
ACCESS_TOKEN_SCOPES = ["aws.cognito.signin.user.admin", "openid"]


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    """The template after the SAM transform, code locations replaced as ``sam package`` would."""
    return sam.transformed()


def api_routes() -> dict[tuple[str, str], str]:
    """(path, method) → the CodeUri folder of the function serving it."""
    routes = {}
    for properties in functions().values():
        for event in properties.get("Events", {}).values():
            if event["Type"] == "Api" and event["Properties"]["RestApiId"] != {"Ref": "FlIngressApi"}:
                assert event["Properties"]["RestApiId"] == {"Ref": "FlipApi"}
                key = (event["Properties"]["Path"], event["Properties"]["Method"].lower())
                assert key not in routes, f"{key} is served twice"
                routes[key] = Path(properties["CodeUri"]).name
    return routes


def test_every_spec_route_has_its_own_function() -> None:
    routes = api_routes()

    assert set(routes) == SPEC_ROUTES
    for route, same in SAME_OPERATION.items():
        assert routes[route] == routes[same]
    assert len(set(routes.values())) == len(routes) - len(SAME_OPERATION)
    for folder in routes.values():
        assert (ROOT / "functions" / folder / "app.py").is_file()


def role_policies(role: dict[str, Any], **parameters: Any) -> list[dict[str, Any]]:
    """A role's inline policies for these parameters (a conditional one left out when its condition fails)."""
    return [policy for policy in sam.resolved(role["Policies"], **parameters) if isinstance(policy, dict)]


def test_the_job_types_function_may_read_the_operators_ssm_parameter_only_when_one_is_named() -> None:
    name = "/flip/job-types"
    role = sam.transformed(JobTypesParameterName=name)["Resources"]["GetJobTypesFunctionRole"]["Properties"]

    statements = [
        s
        for policy in role_policies(role, JobTypesParameterName=name)
        for s in policy["PolicyDocument"]["Statement"]
    ]

    assert [(s["Action"], s["Resource"]) for s in statements[1:]] == [
        ("ssm:GetParameter", f"arn:aws:ssm:{sam.REGION}:{sam.ACCOUNT}:parameter{name}")
    ]
    function = sam.transformed(JobTypesParameterName=name)["Resources"]["GetJobTypesFunction"]["Properties"]
    assert (
        sam.resolved(function["Environment"]["Variables"]["JOB_TYPES_PARAMETER"], JobTypesParameterName=name)
        == name
    )
    # Without a parameter: no SSM right, no SSM endpoint, and the function reads only the shipped manifests.
    assert "SsmEndpoint" not in sam.created(CreateVpcEndpoints="true")
    assert "SsmEndpoint" in sam.created(CreateVpcEndpoints="true", JobTypesParameterName=name)


def test_api_functions_may_read_only_the_runtime_database_secret(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    for name in functions():
        if not any(e["Type"] == "Api" for e in functions()[name].get("Events", {}).values()):
            continue
        if name == "FlIngressFunction":  # the FL ingress: tests/template/test_fl_ingress_template.py
            continue
        role = resources[f"{name}Role"]["Properties"]
        statements = [s for policy in role_policies(role) for s in policy["PolicyDocument"]["Statement"]]
        assert [s["Action"] for s in statements] == [["secretsmanager:GetSecretValue"]], name
        assert sam.resolved(statements[0]["Resource"]) == sam.SAMPLE_PARAMETERS["DbSecretArn"], name
        assert resources[name]["Properties"]["VpcConfig"]
        assert resources[name]["Properties"]["Layers"]
        assert f"{name}LogGroup" in resources


def test_every_route_takes_the_web_apps_access_token_but_preflight_needs_none(
    transformed: dict[str, Any],
) -> None:
    """A Cognito authorizer accepts access tokens only on methods that ask for OAuth scopes (without
    scopes it validates ID tokens): every method asks for the web app's, from the Authorization header."""
    api = transformed["Resources"]["FlipApi"]["Properties"]
    body = api["Body"]
    authorizer = body["securityDefinitions"]["CognitoAuthorizer"]
    assert authorizer["x-amazon-apigateway-authorizer"]["type"] == "cognito_user_pools"
    assert authorizer["x-amazon-apigateway-authorizer"]["providerARNs"] == [POOL_ARN]
    assert (authorizer["in"], authorizer["name"]) == ("header", "Authorization")
    for path, method in SPEC_ROUTES:
        operations = body["paths"][path]
        assert operations[method]["security"] == [{"CognitoAuthorizer": ACCESS_TOKEN_SCOPES}], (path, method)
        assert "options" in operations
        assert "security" not in operations["options"] or operations["options"]["security"] == [{"NONE": []}]


def test_the_api_url_is_an_output() -> None:
    assert "FlipApi" in json.dumps(load_template()["Outputs"]["ApiUrl"]["Value"])


def test_cognitos_401_has_the_error_shape_of_openapi_json(transformed: dict[str, Any]) -> None:
    """API Gateway answers a missing or bad token itself: in ``{"statusCode", "message"}`` with CORS."""
    body = transformed["Resources"]["FlipApi"]["Properties"]["Body"]
    unauthorized = body["x-amazon-apigateway-gateway-responses"]["UNAUTHORIZED"]
    assert str(unauthorized["statusCode"]) == "401"
    assert "gatewayresponse.header.Access-Control-Allow-Origin" in unauthorized["responseParameters"]
    template = unauthorized["responseTemplates"]["application/json"]
    rendered = json.loads(template.replace("$context.error.messageString", '"Unauthorized"'))
    assert rendered == {"statusCode": 401, "message": "Unauthorized"}
    documented = json.loads((ROOT / "openapi.json").read_text())["components"]["schemas"]["ErrorBody"]
    assert set(documented["required"]) <= set(rendered)


FLIP_API_URL = "https://flip-api.internal.example/api"


def test_with_flip_api_url_every_other_route_goes_to_flip_api_untouched() -> None:
    """Issue 24: one base URL for the web app. A greedy ANY proxy (ranked by API Gateway after every
    literal and {param} route) with an HTTP proxy integration: method, path, query, headers and body
    pass through, and flip-api's status and body come back; 29 s, API Gateway's most."""
    api = sam.transformed(FlipApiUrl=FLIP_API_URL)["Resources"]["FlipApi"]["Properties"]
    paths = sam.resolved(api["Body"]["paths"], FlipApiUrl=FLIP_API_URL)
    proxy = paths["/{proxy+}"]
    assert set(proxy) == {"x-amazon-apigateway-any-method", "options"}
    method = proxy["x-amazon-apigateway-any-method"]
    integration = method["x-amazon-apigateway-integration"]
    assert integration["type"] == "http_proxy"
    assert integration["httpMethod"] == "ANY"
    assert integration["uri"] == f"{FLIP_API_URL}/{{proxy}}"
    assert integration["requestParameters"] == {"integration.request.path.proxy": "method.request.path.proxy"}
    assert integration["timeoutInMillis"] == 29000
    assert {"name": "proxy", "in": "path", "required": True, "type": "string"} in method["parameters"]
    # The web app's token guards the proxy as it guards the model routes; flip-api checks it again.
    assert method["security"] == [{"CognitoAuthorizer": ACCESS_TOKEN_SCOPES}]
    for path, verb in SPEC_ROUTES:  # the model routes keep their functions
        assert "lambda:path" in json.dumps(paths[path][verb]["x-amazon-apigateway-integration"]["uri"])


def test_without_flip_api_url_there_is_no_proxy() -> None:
    api = sam.transformed()["Resources"]["FlipApi"]["Properties"]
    paths = sam.resolved(api["Body"]["paths"])
    assert paths["/{proxy+}"] == "AWS::NoValue"  # CloudFormation drops the key
    assert set(paths) >= {path for path, _ in SPEC_ROUTES}


def test_the_api_id_is_an_output_for_redeploying_after_a_flip_api_url_change() -> None:
    """SAM redeploys only when the definition changes as written; FlipApiUrl is a parameter inside it."""
    assert load_template()["Outputs"]["ApiId"]["Value"] == {"Ref": "FlipApi"}
