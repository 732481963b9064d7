"""``deploy/aws/assay.yaml``: Assay on ECS without Kubernetes, linted, deployed and read back.

The template is linted with cfn-lint (AWS's own linter, in the test extra through moto[server]),
then created as a stack on moto's CloudFormation (``moto_server``, tests/harness/moto.py) with a
VPC, subnets and the two Secrets Manager secrets it needs. moto creates every resource type the
template uses (ECS cluster, task definitions and services; IAM roles with inline policies; S3;
CloudWatch Logs; EC2 security group); it does not run the Fargate tasks, so what the tasks would
do is checked instead by loading each container's environment through Assay's own settings loader.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from services.cli.registry import SERVICES
from services.settings import load_settings
from tests.harness.moto import REGION, MotoServer

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "assay.yaml"
WORKLOADS = {"inventory", "dedupe", "engine", "policy", "updater", "api"}


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (``!Ref``, ``!Sub`` ...) read as ``{Fn: value}``."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    assert isinstance(node, yaml.MappingNode)
    return {suffix: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _tag)


def _template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text("utf-8"), _CfnLoader)
    return loaded


def _client(moto: MotoServer, service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=moto.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_cfn_lint_passes() -> None:
    lint = Path(sys.executable).with_name("cfn-lint")
    binary = str(lint) if lint.exists() else shutil.which("cfn-lint")
    assert binary, "cfn-lint is in the test extra (through moto[server])"
    result = subprocess.run([binary, str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_yaml_aliases_cloudformation_would_refuse() -> None:
    """CloudFormation's YAML parser rejects anchors and aliases, though PyYAML and cfn-lint accept them."""
    events = yaml.parse(TEMPLATE.read_text("utf-8"), _CfnLoader)
    assert not [e for e in events if isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None)]


def test_each_workload_runs_an_assay_service_with_settings_assay_reads() -> None:
    resources = _template()["Resources"]
    tasks = {
        name: res["Properties"]["ContainerDefinitions"][0]
        for name, res in resources.items()
        if res["Type"] == "AWS::ECS::TaskDefinition"
    }
    commands = {tuple(c["Command"]) for c in tasks.values()}
    assert commands == {("service", w) for w in WORKLOADS}
    assert {c["Command"][1] for c in tasks.values()} <= {*SERVICES, "updater"}
    for container in tasks.values():
        env = {e["Name"]: _plausible(e["Value"]) for e in container.get("Environment", [])}
        settings = load_settings(env)  # raises ConfigError naming a setting it cannot read
        if "ASSAY_AWS_S3_BUCKET" in env:
            assert settings.aws.s3_bucket == "assay-objects"
        if container["Command"][1] == "inventory":
            assert settings.aws.ecr
            assert settings.aws.ecs
        assert container["ReadonlyRootFilesystem"] is True
        assert container["User"] == "10001:10001"  # the Dockerfile's non-root uid


def _plausible(value: Any) -> str:
    """A concrete value for a template expression, as CloudFormation would render it."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return {"ObjectStore": "assay-objects", "KafkaSecurityProtocol": "PLAINTEXT"}.get(value["Ref"], "1")
    if "If" in value:
        return ""  # the SASL mechanism without SASL
    if "Join" in value:
        return ""
    raise AssertionError(f"unexpected expression {value}")


def test_task_roles_are_least_privilege() -> None:
    resources = _template()["Resources"]
    statements: dict[str, list[dict[str, Any]]] = {}
    for name, res in resources.items():
        if res["Type"] == "AWS::IAM::Role":
            policies = res["Properties"].get("Policies", [])
            statements[name] = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    actions = {name: {a for s in st for a in _list(s["Action"])} for name, st in statements.items()}
    assert not any(a == "*" or a.endswith(":*") for acts in actions.values() for a in acts)
    assert actions["ApiRole"] == set()
    assert not any(a.startswith("s3:") for a in actions["InventoryRole"])
    assert not any(a.startswith(("ecr:", "ecs:")) for a in actions["StoreRole"])
    assert {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "s3:GetObject"} <= actions["EngineRole"]
    writes = [s for st in statements.values() for s in st if "s3:PutObject" in _list(s["Action"])]
    assert all(s["Resource"] == {"Sub": "${ObjectStore.Arn}/assay/*"} for s in writes)


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


@pytest.fixture
def stack(moto: MotoServer) -> dict[str, str]:
    """The template created on moto with a VPC, two subnets and the secrets: its outputs."""
    ec2 = _client(moto, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)
    ]
    secrets = _client(moto, "secretsmanager")
    dsn = secrets.create_secret(Name="assay/pg", SecretString="postgresql://assay:pw@rds.internal/assay")
    sasl = secrets.create_secret(Name="assay/kafka", SecretString='{"username":"assay","password":"pw"}')
    cfn = _client(moto, "cloudformation")
    params = {
        "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/assay:0.1.0",
        "VpcId": vpc,
        "SubnetIds": ",".join(subnets),
        "KafkaBootstrap": "b-1.msk.internal:9096",
        "KafkaSaslSecretArn": sasl["ARN"],
        "PostgresDsnSecretArn": dsn["ARN"],
        "EngineCount": "3",
    }
    cfn.create_stack(
        StackName="assay",
        TemplateBody=TEMPLATE.read_text("utf-8"),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.monotonic() + 60
    while (described := cfn.describe_stacks(StackName="assay")["Stacks"][0])["StackStatus"].endswith(
        "IN_PROGRESS"
    ):
        assert time.monotonic() < deadline, "stack creation did not finish"
        time.sleep(0.5)
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


def test_the_stack_deploys_on_moto_with_every_workload(moto: MotoServer, stack: dict[str, str]) -> None:
    assert set(stack) == {
        "ClusterName", "ObjectStoreBucket", "InventoryRoleArn", "EngineRoleArn", "ApiSecurityGroup",
    }  # fmt: skip
    ecs = _client(moto, "ecs")
    arns = ecs.list_services(cluster=stack["ClusterName"])["serviceArns"]
    services = ecs.describe_services(cluster=stack["ClusterName"], services=arns)["services"]
    by_command: dict[str, dict[str, Any]] = {}
    for svc in services:
        task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        container = task["containerDefinitions"][0]
        by_command[container["command"][1]] = {"service": svc, "task": task, "container": container}
    assert set(by_command) == WORKLOADS
    assert by_command["engine"]["service"]["desiredCount"] == 3
    engine_env = {e["name"]: e["value"] for e in by_command["engine"]["container"]["environment"]}
    assert engine_env["ASSAY_AWS_S3_BUCKET"] == stack["ObjectStoreBucket"]
    assert engine_env["ASSAY_KAFKA_BOOTSTRAP"] == "b-1.msk.internal:9096"
    secret_names = {s["name"] for s in by_command["engine"]["container"]["secrets"]}
    assert secret_names == {"ASSAY_PG_DSN", "ASSAY_KAFKA_SASL_USERNAME", "ASSAY_KAFKA_SASL_PASSWORD"}
    assert "environment" not in by_command["api"]["container"] or not any(
        e["name"].startswith("ASSAY_KAFKA") for e in by_command["api"]["container"]["environment"]
    )
    _client(moto, "s3").head_bucket(Bucket=stack["ObjectStoreBucket"])  # raises if absent
    iam = _client(moto, "iam")
    engine_role = stack["EngineRoleArn"].rsplit("/", 1)[1]
    assert iam.list_role_policies(RoleName=engine_role)["PolicyNames"] == ["pull-and-cache"]
    # moto's CloudFormation drops TaskRoleArn, ExecutionRoleArn and the Fargate sizes from the task
    # definitions it registers; the template's wiring of roles is checked statically above
    assert by_command["engine"]["task"]["family"] == "assay-engine"
