""".terraform.lock.hcl: the providers a configuration is locked to."""

from pathlib import Path

from services.engine.catalogers.terraform.parse_terraform_lock import (
    parse_terraform_lock,
    terraform_to_package,
)

HERE = Path(__file__).parent
REL = "testdata/srv/infra/.terraform.lock.hcl"


def test_providers() -> None:
    result = parse_terraform_lock(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version, p.metadata) for p in result.packages] == [
        ("registry.terraform.io/hashicorp/aws", "5.31.0", {"constraints": "~> 5.0"}),
        ("registry.terraform.io/integrations/github", "5.42.0", {}),
    ]
    pkg = terraform_to_package(result.packages[0], None, "/" + REL)
    assert (pkg.purl, pkg.declared) == ("pkg:terraform/registry.terraform.io/hashicorp/aws@5.31.0", True)


def test_a_provider_without_a_version_is_a_problem() -> None:
    data = b'provider "registry.terraform.io/hashicorp/null" {\n  constraints = ">= 3.0"\n}\n'
    result = parse_terraform_lock(".terraform.lock.hcl", data)
    assert result.packages == []
    assert result.problems == [
        ".terraform.lock.hcl: provider 'registry.terraform.io/hashicorp/null' without a version"
    ]
