"""template.yaml built with ``sam build`` and deployed with ``sam deploy`` to LocalStack's CloudFormation.

What AWS would need already exists in an account is created here first, through LocalStack's APIs: a
VPC with two subnets and a security group, the runtime and owner database secrets and an S3 bucket for
the artifacts. LocalStack must run with the ``flip-refuse`` Lambda runtime executor
(scripts/localstack.sh starts it so), which lets functions become ``Active`` without Docker and
refuses to run them: the stack is deployed to be inspected, not invoked.

``make deploy-local`` (scripts/deploy_local.sh) deploys the stage ``local`` and prints the outputs;
``--delete`` removes it with everything it kept. ``tests/deploy/`` deploys a stage of its own per run
and deletes it at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import secrets
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAM = ROOT / ".tools" / "sam-cli" / "bin" / "sam"
REGION = "eu-west-2"
ACCOUNT = "000000000000"  # LocalStack's default account
EXECUTOR = "flip-refuse"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"


class DeployError(RuntimeError):
    """A step of the deployment failed; the message says which and why."""


@dataclass(frozen=True)
class Network:
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_id: str


@dataclass
class LocalDeployment:
    """One stage of the template in LocalStack: its prerequisites, build, stack and clean-up."""

    stage: str
    endpoint: str = DEFAULT_ENDPOINT
    build_dir: Path = ROOT / ".aws-sam" / "localstack" / "build"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def stack_name(self) -> str:
        return f"flip-models-{self.stage}"

    @property
    def prefix(self) -> str:
        return f"flip-models-{self.stage}"

    def client(self, service: str) -> Any:
        factory: Any = boto3.client  # any service by name: the typed overloads want a literal
        return factory(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - LocalStack, no real credentials
        )

    # --- LocalStack itself ---------------------------------------------------------------------------

    def check_executor(self) -> None:
        """Fail early, and say how to fix it, when LocalStack would try to run Lambda in Docker.

        A probe function is created and must become ``Active``: with LocalStack's default executor
        it ends ``Failed`` (no Docker), and so would every function of the stack.
        """
        lambda_ = self.client("lambda")
        name = f"{self.prefix}-executor-probe"
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
        with suppress(lambda_.exceptions.ResourceNotFoundException):
            lambda_.delete_function(FunctionName=name)
        lambda_.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=f"arn:aws:iam::{ACCOUNT}:role/{name}",
            Handler="app.lambda_handler",
            Code={"ZipFile": archive.getvalue()},
        )
        try:
            for _ in range(60):
                state = lambda_.get_function(FunctionName=name)["Configuration"]
                if state.get("State") != "Pending":
                    break
                time.sleep(0.5)
        finally:
            lambda_.delete_function(FunctionName=name)
        if state.get("State") != "Active":
            raise DeployError(
                f"LocalStack at {self.endpoint} cannot create Lambda functions "
                f"({state.get('State')}: {state.get('StateReason')}): it was started without "
                f"LAMBDA_RUNTIME_EXECUTOR={EXECUTOR}. Restart it with scripts/localstack.sh "
                "(stop, then start), which installs and selects that executor."
            )

    # --- what the account would already have ---------------------------------------------------------

    def network(self) -> Network:
        """The stage's VPC (tagged with its name), two subnets in two zones and a security group."""
        ec2 = self.client("ec2")
        tag = [{"Name": "tag:Name", "Values": [self.prefix]}]
        vpcs = ec2.describe_vpcs(Filters=tag)["Vpcs"]
        if vpcs:
            vpc_id = vpcs[0]["VpcId"]
            subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
            groups = ec2.describe_security_groups(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "group-name", "Values": [self.prefix]},
                ]
            )["SecurityGroups"]
            return Network(vpc_id, tuple(sorted(s["SubnetId"] for s in subnets)), groups[0]["GroupId"])
        tags = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": self.prefix}]}]
        vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16", TagSpecifications=tags)["Vpc"]["VpcId"]
        subnet_ids = tuple(
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.42.{n}.0/24", AvailabilityZone=f"{REGION}{zone}")[
                "Subnet"
            ]["SubnetId"]
            for n, zone in ((1, "a"), (2, "b"))
        )
        group_id = ec2.create_security_group(
            GroupName=self.prefix, Description="flip-models functions", VpcId=vpc_id
        )["GroupId"]
        return Network(vpc_id, subnet_ids, group_id)

    def database_secrets(self) -> tuple[str, str]:
        """The runtime role's and the owner's secrets (never read here: no function runs)."""
        manager = self.client("secretsmanager")
        arns = []
        for role in ("runtime", "owner"):
            name = f"{self.prefix}/db-{role}"
            value = {"host": "db.invalid", "port": 5432, "username": f"flip_{role}", "password": "unused"}
            try:
                arns.append(manager.describe_secret(SecretId=name)["ARN"])
            except manager.exceptions.ResourceNotFoundException:
                secret = {**value, "dbname": "flip"}
                arns.append(manager.create_secret(Name=name, SecretString=json.dumps(secret))["ARN"])
        return arns[0], arns[1]

    def artifact_bucket(self) -> str:
        s3 = self.client("s3")
        bucket = f"{self.prefix}-artifacts"
        with suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        return bucket

    def parameters(self, **overrides: str) -> dict[str, str]:
        """Every required parameter, for LocalStack; the options a careful operator would choose."""
        network = self.network()
        runtime_secret, owner_secret = self.database_secrets()
        return {
            "Stage": self.stage,
            "DbSecretArn": runtime_secret,
            "MigrationSecretArn": owner_secret,
            "VpcId": network.vpc_id,
            "SubnetIds": ",".join(network.subnet_ids),
            "SecurityGroupIds": network.security_group_id,
            "CreateVpcEndpoints": "true",
            "CognitoUserPoolArn": f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_flipLocal",
            "CorsAllowOrigin": "http://127.0.0.1:3000",
            "FlServerRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{self.prefix}-fl-server",
            "RedriveRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{self.prefix}-redrive",
            # The FL ingress, PRIVATE (the default) behind the FL servers' execute-api endpoint.
            "FlIngressVpcEndpointIds": self.execute_api_endpoint(network),
            "InternalServiceKeySecretArn": self.internal_service_key_secret(),
            **overrides,
        }

    def execute_api_endpoint(self, network: Network) -> str:
        """The FL servers' ``execute-api`` interface endpoint in the stage's VPC (what the hub's
        network would have), without private DNS."""
        ec2 = self.client("ec2")
        service = f"com.amazonaws.{REGION}.execute-api"
        found = ec2.describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [network.vpc_id]},
                {"Name": "service-name", "Values": [service]},
            ]
        )["VpcEndpoints"]
        if found:
            return str(found[0]["VpcEndpointId"])
        created = ec2.create_vpc_endpoint(
            VpcEndpointType="Interface",
            VpcId=network.vpc_id,
            ServiceName=service,
            SubnetIds=list(network.subnet_ids),
            SecurityGroupIds=[network.security_group_id],
            PrivateDnsEnabled=False,
        )
        return str(created["VpcEndpoint"]["VpcEndpointId"])

    def internal_service_key_secret(self) -> str:
        """FLIP's secret of the FL servers' key: its SHA-256 under ``internal_service_key_hash``."""
        manager = self.client("secretsmanager")
        name = f"{self.prefix}/internal-service-key-hash"
        try:
            return str(manager.describe_secret(SecretId=name)["ARN"])
        except manager.exceptions.ResourceNotFoundException:
            value = json.dumps(
                {"internal_service_key_hash": hashlib.sha256(b"local-fl-server-key").hexdigest()}
            )
            return str(manager.create_secret(Name=name, SecretString=value)["ARN"])

    # --- the SAM CLI ------------------------------------------------------------------------------------

    def sam_environment(self) -> dict[str, str]:
        """The SAM CLI pointed at LocalStack; python3.12 on the PATH for the builds."""
        python312 = _python312()
        return {
            **os.environ,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "SAM_CLI_TELEMETRY": "0",
            "PATH": f"{python312.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def _sam(self, *arguments: str) -> str:
        if not SAM.exists():
            raise DeployError(f"{SAM} is missing: scripts/deploy_local.sh or make test installs it")
        result = subprocess.run(  # noqa: S603 - our pinned SAM CLI, our arguments
            [str(SAM), *arguments],
            cwd=ROOT,
            env=self.sam_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DeployError(f"sam {arguments[0]} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result.stdout

    def build(self) -> Path:
        """``sam build`` into build_dir; the built template's path."""
        started = time.monotonic()
        self._sam(
            "build",
            "--template-file",
            str(TEMPLATE),
            "--build-dir",
            str(self.build_dir),
            "--cache-dir",
            str(self.build_dir.parent / "cache"),
        )
        self.timings["sam build"] = time.monotonic() - started
        return self.build_dir / "template.yaml"

    def deploy(self, parameters: Mapping[str, str]) -> dict[str, str]:
        """``sam deploy`` of the built template; the stack's outputs once it is complete."""
        started = time.monotonic()
        try:
            self._sam(
                "deploy",
                "--template-file",
                str(self.build_dir / "template.yaml"),
                "--stack-name",
                self.stack_name,
                "--s3-bucket",
                self.artifact_bucket(),
                "--capabilities",
                "CAPABILITY_IAM",
                "--no-confirm-changeset",
                "--no-fail-on-empty-changeset",
                "--parameter-overrides",
                *(f"{key}={value}" for key, value in parameters.items()),
            )
        except DeployError as error:
            raise DeployError(f"{error}\n{self.failure_events()}") from None
        self.timings["sam deploy"] = time.monotonic() - started
        return self.outputs()

    def stack(self) -> dict[str, Any]:
        return dict(self.client("cloudformation").describe_stacks(StackName=self.stack_name)["Stacks"][0])

    def outputs(self) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in self.stack().get("Outputs", [])}

    def resources(self) -> dict[str, dict[str, Any]]:
        """Logical id → the stack's resource summary (type, physical id, status)."""
        paginator = self.client("cloudformation").get_paginator("list_stack_resources")
        return {
            r["LogicalResourceId"]: r
            for page in paginator.paginate(StackName=self.stack_name)
            for r in page["StackResourceSummaries"]
        }

    def failure_events(self) -> str:
        """The stack's failed events, to say why a deploy did not complete."""
        with suppress(ClientError):
            events = self.client("cloudformation").describe_stack_events(StackName=self.stack_name)[
                "StackEvents"
            ]
            failed = [
                f"{e['LogicalResourceId']}: {e['ResourceStatus']} {e.get('ResourceStatusReason', '')}"
                for e in events
                if "FAILED" in e["ResourceStatus"]
            ]
            return "\n".join(failed[:20])
        return ""

    # --- clean-up -----------------------------------------------------------------------------------

    def delete(self) -> None:
        """The stack, then what it keeps on delete (DLQs, log groups, the API Gateway role), then the
        prerequisites: nothing of the stage is left in LocalStack. Raises when the stack itself could
        not be deleted (after removing the rest)."""
        started = time.monotonic()
        cloudformation = self.client("cloudformation")
        kept: list[dict[str, Any]] = []
        failure = None
        try:
            kept = [
                resource
                for resource in self.resources().values()
                if resource["ResourceType"] in ("AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::IAM::Role")
            ]
            self._without_vpc_endpoints()
            cloudformation.delete_stack(StackName=self.stack_name)
            cloudformation.get_waiter("stack_delete_complete").wait(
                StackName=self.stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 300}
            )
        except ClientError as error:
            if "does not exist" not in str(error):
                failure = f"{self.stack_name} could not be deleted: {error}"
        except WaiterError as error:
            failure = f"{self.stack_name} could not be deleted: {error}\n{self.failure_events()}"
        for resource in kept:
            self._delete_kept(resource)
        self._delete_prerequisites()
        self.timings["delete"] = time.monotonic() - started
        if failure:
            raise DeployError(failure)

    def _without_vpc_endpoints(self) -> None:
        """LocalStack 2026.3 evaluates ``Fn::Select`` on a list parameter as a string when it deletes a
        stack made with ``CreateVpcEndpoints=true``, and refuses (leaving it ``DELETE_IN_PROGRESS``):
        an update to ``false`` first lets it delete. (LocalStack keeps the endpoints; they go with the
        VPC.) Nothing to do for a stack without them."""
        cloudformation = self.client("cloudformation")
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in self.stack().get("Parameters", [])}
        if parameters.get("CreateVpcEndpoints") != "true":
            return
        original = cloudformation.get_template(StackName=self.stack_name, TemplateStage="Original")
        body = original["TemplateBody"]
        cloudformation.update_stack(
            StackName=self.stack_name,
            TemplateBody=body if isinstance(body, str) else json.dumps(body),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            Parameters=[
                {"ParameterKey": name, "ParameterValue": "false" if name == "CreateVpcEndpoints" else value}
                for name, value in parameters.items()
            ],
        )
        cloudformation.get_waiter("stack_update_complete").wait(
            StackName=self.stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 300}
        )

    def _delete_kept(self, resource: Mapping[str, Any]) -> None:
        physical = resource.get("PhysicalResourceId", "")
        sqs, logs, iam = self.client("sqs"), self.client("logs"), self.client("iam")
        with suppress(ClientError):
            if resource["ResourceType"] == "AWS::SQS::Queue":
                sqs.delete_queue(QueueUrl=physical)
            elif resource["ResourceType"] == "AWS::Logs::LogGroup":
                logs.delete_log_group(logGroupName=physical)
            else:
                for policy in iam.list_attached_role_policies(RoleName=physical)["AttachedPolicies"]:
                    iam.detach_role_policy(RoleName=physical, PolicyArn=policy["PolicyArn"])
                for name in iam.list_role_policies(RoleName=physical)["PolicyNames"]:
                    iam.delete_role_policy(RoleName=physical, PolicyName=name)
                iam.delete_role(RoleName=physical)

    def _delete_prerequisites(self) -> None:
        manager, s3, ec2 = self.client("secretsmanager"), self.client("s3"), self.client("ec2")
        for role in ("runtime", "owner"):
            with suppress(ClientError):
                manager.delete_secret(SecretId=f"{self.prefix}/db-{role}", ForceDeleteWithoutRecovery=True)
        bucket = f"{self.prefix}-artifacts"
        with suppress(ClientError):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for item in page.get("Contents", []):
                    s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)
        for vpc in ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [self.prefix]}])["Vpcs"]:
            vpc_id = vpc["VpcId"]
            # (LocalStack ignores a vpc-id filter on endpoints: they are chosen here.)
            endpoints = [
                e["VpcEndpointId"]
                for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                if e["VpcId"] == vpc_id
            ]
            with suppress(ClientError):
                if endpoints:
                    ec2.delete_vpc_endpoints(VpcEndpointIds=endpoints)
            vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
            for group in ec2.describe_security_groups(Filters=vpc_filter)["SecurityGroups"]:
                if group["GroupName"] != "default":
                    with suppress(ClientError):
                        ec2.delete_security_group(GroupId=group["GroupId"])
            for subnet in ec2.describe_subnets(Filters=vpc_filter)["Subnets"]:
                with suppress(ClientError):
                    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
            with suppress(ClientError):
                ec2.delete_vpc(VpcId=vpc_id)


def _python312() -> Path:
    """pyenv's Python 3.12 (what sam build needs on the PATH for python3.12 functions and the layer)."""
    candidates = sorted(
        Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")).glob("versions/3.12.*/bin")
    )
    for directory in reversed(candidates):
        if (directory / "python3.12").exists():
            return directory / "python3.12"
    raise DeployError("sam build needs Python 3.12 (pyenv install 3.12)")


def unique_stage() -> str:
    """A stage name of this run's own (several runs can share one LocalStack)."""
    return f"t{secrets.token_hex(4)}"


def _print_outputs(deployment: LocalDeployment, outputs: Mapping[str, str]) -> None:
    status = deployment.stack()["StackStatus"]
    print(f"Stack {deployment.stack_name} in LocalStack ({deployment.endpoint}): {status}")
    width = max(len(key) for key in outputs)
    for key, value in sorted(outputs.items()):
        print(f"  {key:<{width}}  {value}")
    print("  " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in deployment.timings.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy template.yaml to LocalStack with the SAM CLI.")
    parser.add_argument("--stage", default="local", help="the stage (and stack flip-models-<stage>)")
    parser.add_argument("--delete", action="store_true", help="delete the stage and all it kept instead")
    parser.add_argument("--no-vpc-endpoints", action="store_true", help="CreateVpcEndpoints=false")
    args = parser.parse_args(argv)
    endpoint = os.environ.get("LOCALSTACK_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    deployment = LocalDeployment(args.stage, endpoint)
    try:
        if args.delete:
            deployment.delete()
            print(f"deleted {deployment.stack_name} and what it kept ({deployment.timings['delete']:.1f} s)")
            return 0
        deployment.check_executor()
        parameters = deployment.parameters(CreateVpcEndpoints=str(not args.no_vpc_endpoints).lower())
        deployment.build()
        _print_outputs(deployment, deployment.deploy(parameters))
    except DeployError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
