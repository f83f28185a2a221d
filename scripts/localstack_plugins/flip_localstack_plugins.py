"""Two LocalStack plugins so that template.yaml deploys to LocalStack's CloudFormation without Docker.

**The Lambda runtime executor ``flip-refuse``.** LocalStack's free edition runs Lambda code in Docker:
creating a function makes its default executor download a runtime and pull an image, and without
Docker the function ends ``Failed`` (so a stack with functions rolls back). The deploy test needs the
functions, their event source mappings and everything around them created as AWS would create them,
never run; this executor (``LAMBDA_RUNTIME_EXECUTOR=flip-refuse``, set by scripts/localstack.sh) makes
each function ``Active`` at once and answers any invocation with an error that says why.

**A resource provider for ``AWS::CloudWatch::Dashboard``.** LocalStack's CloudWatch API keeps
dashboards, but its community CloudFormation has no provider for them: it reports the resource created
and creates nothing. This one puts the dashboard (body as CloudFormation resolved it, refused unless it
is a JSON object with widgets, as CloudWatch refuses it) and deletes it with the stack.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    OperationStatus,
    ProgressEvent,
    ResourceProvider,
    ResourceRequest,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

EXECUTOR = "flip-refuse"
REFUSAL = (
    "this LocalStack runs no Lambda code (LAMBDA_RUNTIME_EXECUTOR=flip-refuse, no Docker): functions are "
    "deployed to be inspected, not invoked; run the handlers with `make run` instead"
)


class RefusingRuntimeExecutor(RuntimeExecutor):
    """Every function version is ready at once; no execution environment ever starts."""

    def start(self, env_vars: dict[str, str]) -> None:
        raise LambdaRuntimeException(REFUSAL)

    def stop(self) -> None:
        """Nothing was started."""

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return "http://127.0.0.1"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        raise LambdaRuntimeException(REFUSAL)

    def get_logs(self) -> str:
        return ""

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        """No runtime to install and no image to pull: the version becomes Active."""

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing was prepared."""


class RefusingRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = EXECUTOR

    def load(self, *args: object, **kwargs: object) -> type[RuntimeExecutor]:
        return RefusingRuntimeExecutor


class DashboardProperties(TypedDict, total=False):
    DashboardName: str
    DashboardBody: str


class CloudWatchDashboardProvider(ResourceProvider[DashboardProperties]):
    TYPE = "AWS::CloudWatch::Dashboard"
    SCHEMA: dict[str, Any] = {  # noqa: RUF012 (LocalStack reads it as a class attribute)
        "typeName": TYPE,
        "primaryIdentifier": ["/properties/DashboardName"],
        "createOnlyProperties": ["/properties/DashboardName"],
        "required": ["DashboardBody"],
    }

    def create(self, request: ResourceRequest[DashboardProperties]) -> ProgressEvent[DashboardProperties]:
        model = request.desired_state
        model.setdefault("DashboardName", f"{request.stack_name}-{request.logical_resource_id}")
        return self._put(request, model)

    def update(self, request: ResourceRequest[DashboardProperties]) -> ProgressEvent[DashboardProperties]:
        return self._put(request, request.desired_state)

    def delete(self, request: ResourceRequest[DashboardProperties]) -> ProgressEvent[DashboardProperties]:
        model = request.desired_state
        request.aws_client_factory.cloudwatch.delete_dashboards(DashboardNames=[model["DashboardName"]])
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def read(self, request: ResourceRequest[DashboardProperties]) -> ProgressEvent[DashboardProperties]:
        raise NotImplementedError

    @staticmethod
    def _put(
        request: ResourceRequest[DashboardProperties], model: DashboardProperties
    ) -> ProgressEvent[DashboardProperties]:
        try:
            body = json.loads(model["DashboardBody"])
        except (KeyError, json.JSONDecodeError) as error:
            return ProgressEvent(
                status=OperationStatus.FAILED, resource_model=model, message=f"invalid DashboardBody: {error}"
            )
        if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
            message = "DashboardBody has no widgets list"
            return ProgressEvent(status=OperationStatus.FAILED, resource_model=model, message=message)
        request.aws_client_factory.cloudwatch.put_dashboard(
            DashboardName=model["DashboardName"], DashboardBody=model["DashboardBody"]
        )
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)


class CloudWatchDashboardProviderPlugin(CloudFormationResourceProviderPlugin):
    name = "AWS::CloudWatch::Dashboard"

    def __init__(self) -> None:
        self.factory: type[ResourceProvider[DashboardProperties]] | None = None

    def load(self) -> None:
        self.factory = CloudWatchDashboardProvider
