"""Recall and precision of the shipped ruleset on other scanners' published examples.

testdata/corpus.toml holds true- and false-positive examples copied from gitleaks' rule tests,
Trivy's secret-scanner test data and other public test cases (each set names its source). The
goal of issue 16: at least 90 % of the true positives found, at most 10 false positives.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from services.engine.content.secrets.analyzer import SecretScanner
from services.engine.content.secrets.ruleset import load_ruleset

CORPUS: dict[str, Any] = tomllib.loads((Path(__file__).parent / "testdata" / "corpus.toml").read_text())
DEFAULT_PATH = "srv/app/config.txt"
RECALL_MIN = 0.90
FALSE_POSITIVES_MAX = 10


def _outcomes() -> tuple[list[str], list[str], int, int]:
    """(missed true positives, reported false positives, true-positive count, false-positive count)."""
    scanner = SecretScanner(load_ruleset())
    missed: list[str] = []
    flagged: list[str] = []
    tps = fps = 0
    for group in CORPUS["set"]:
        path = group.get("path", DEFAULT_PATH)
        for text in group.get("tp", []):
            tps += 1
            if not scanner.scan(path, text.encode()):
                missed.append(f"{group['source']}: {text[:80]!r}")
        for text in group.get("fp", []):
            fps += 1
            found = scanner.scan(path, text.encode())
            if found:
                flagged.append(f"{group['source']}: {[m.rule.rule.id for m in found]} {text[:80]!r}")
    return missed, flagged, tps, fps


def test_the_corpus_is_large_enough_to_measure() -> None:
    _, _, tps, fps = _outcomes()
    assert tps >= 100
    assert fps >= 100


def test_recall_on_published_true_positives_is_at_least_90_percent() -> None:
    missed, _, tps, _ = _outcomes()
    recall = 1 - len(missed) / tps
    assert recall >= RECALL_MIN, f"recall {recall:.1%}; missed:\n" + "\n".join(missed)


def test_at_most_10_published_false_positives_are_reported() -> None:
    _, flagged, _, _ = _outcomes()
    assert len(flagged) <= FALSE_POSITIVES_MAX, "\n".join(flagged)
