"""Render the Helm chart (``deploy/helm/assay``) with Helm's own Go SDK, and keep ``k8s/`` in sync.

``python -m deploy.render`` writes the default install to ``k8s/`` (one file per template);
``python -m deploy.render --check`` exits 1 when ``k8s/`` differs from a fresh render. The renderer
is ``helm-python-sdk`` (Helm's Go SDK in a wheel), so no ``helm`` binary is needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import helm_python
import yaml

__all__ = ["CHART", "K8S", "RELEASE", "lint", "manifests", "render", "rendered_files"]

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "deploy" / "helm" / "assay"
K8S = ROOT / "k8s"
RELEASE = "assay"
REGENERATE = "python -m deploy.render"
_HEADER = f"# Generated from deploy/helm/assay with default values by `{REGENERATE}`. Do not edit.\n"


def render(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Template path (``assay/templates/x.yaml``) -> rendered text, for ``values`` over the defaults."""
    chart = helm_python.Chart.load(CHART)
    return chart.render(values, name=RELEASE, namespace=RELEASE, is_install=True)


def manifests(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every Kubernetes object the chart renders, parsed (empty documents dropped)."""
    out: list[dict[str, Any]] = []
    for path, text in sorted(render(values).items()):
        if not path.endswith(".yaml"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                if not isinstance(doc, dict):
                    raise ValueError(f"{path}: a document is not a mapping")
                out.append(doc)
    return out


def lint(values: dict[str, Any] | None = None) -> dict[str, Any]:
    """``helm lint --strict`` of the chart: ``{"messages": [...], "errors": [...]}``."""
    return helm_python.lint(CHART, values, strict=True, namespace=RELEASE)


def rendered_files() -> dict[str, str]:
    """``k8s/`` as it should be: file name -> text, one file per non-empty template."""
    files: dict[str, str] = {}
    for path, text in sorted(render().items()):
        name = Path(path).name
        if name.endswith(".yaml") and text.strip():
            files[name] = _HEADER + text.lstrip("\n")
    return files


def _differences(expected: dict[str, str]) -> list[str]:
    current = {p.name: p.read_text() for p in K8S.glob("*.yaml")}
    problems = [f"k8s/{n}: missing" for n in sorted(expected.keys() - current.keys())]
    problems += [f"k8s/{n}: not rendered by the chart" for n in sorted(current.keys() - expected.keys())]
    problems += [f"k8s/{n}: differs" for n in sorted(expected) if n in current and current[n] != expected[n]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.render", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare k8s/ with a fresh render")
    args = parser.parse_args(argv)
    expected = rendered_files()
    if args.check:
        problems = _differences(expected)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print(f"k8s/ is out of date: run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    for stale in K8S.glob("*.yaml"):
        if stale.name not in expected:
            stale.unlink()
    for name, text in expected.items():
        (K8S / name).write_text(text)
    print(f"wrote {len(expected)} files to k8s/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
