"""Declared licenses: Debian copyright files, normalisation to SPDX, and the license policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.records import PackageRecord
from services.engine.licenses.analyzer import LicenseAnalyzer
from services.engine.licenses.dpkg_copyright import copyright_package, parse_copyright
from services.engine.licenses.normalize import normalize, normalize_all
from services.engine.licenses.policy import LicensePolicy, classify, default_policy

TESTDATA = Path(__file__).parent / "testdata"


def test_dep5_copyright_files_copied_from_debian_12() -> None:
    assert parse_copyright((TESTDATA / "zlib1g.copyright").read_bytes()) == ["Zlib"]
    assert parse_copyright((TESTDATA / "tzdata.copyright").read_bytes()) == ["public-domain"]
    assert "Apache-2.0" in parse_copyright((TESTDATA / "libssl3.copyright").read_bytes())
    # glibc's copyright file is free-form (no Format: header): nothing machine-readable to take
    assert parse_copyright((TESTDATA / "libc6.copyright").read_bytes()) == []
    assert copyright_package("usr/share/doc/libssl3/copyright") == "libssl3"


@pytest.mark.parametrize(
    ("declared", "spdx"),
    [
        ("GPL-2+", "GPL-2.0-or-later"),
        ("Artistic or GPL-1+", "Artistic-1.0 OR GPL-1.0-or-later"),
        ("Expat", "MIT"),
        ("BSD-3-clause", "BSD-3-Clause"),
        ("License :: OSI Approved :: BSD License", "BSD-3-Clause"),
        ("License :: OSI Approved :: Apache Software License", "Apache-2.0"),
        ("The Apache Software License, Version 2.0", "Apache-2.0"),
        ("(MIT OR Apache-2.0)", "MIT OR Apache-2.0"),
        ("Apache-2.0, MIT", "Apache-2.0 AND MIT"),
        ("MIT/X11", "MIT"),
        ("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("public-domain", "LicenseRef-public-domain"),
        ("same as perl", "LicenseRef-same-as-perl"),
        ("", ""),
    ],
)
def test_normalize_to_spdx(declared: str, spdx: str) -> None:
    assert normalize(declared) == spdx


def test_normalize_all_joins_distinct_expressions() -> None:
    assert (
        normalize_all(["MIT", "Expat", "GPL-2+ or Artistic"]) == "MIT AND (GPL-2.0-or-later OR Artistic-1.0)"
    )
    assert normalize_all([]) == ""


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("MIT", "notice"),
        ("AGPL-3.0-only", "forbidden"),
        ("GPL-3.0-or-later", "restricted"),
        ("MIT OR GPL-2.0-only", "notice"),  # the user may pick MIT
        ("MIT AND GPL-2.0-only", "restricted"),  # both apply
        ("GPL-2.0-only WITH Classpath-exception-2.0", "restricted"),
        ("LicenseRef-Custom-EULA", "unknown"),
        ("Apache-2.0 AND (AGPL-3.0-only OR LicenseRef-Custom)", "unknown"),
        ("", "unknown"),
    ],
)
def test_default_policy_classes(expression: str, expected: str) -> None:
    assert classify(expression, default_policy()) == expected


def _pkg(name: str, licenses: list[str]) -> PackageRecord:
    return PackageRecord(
        name=name,
        version="1.0",
        type="npm",
        purl=f"pkg:npm/{name}@1.0",
        licenses=licenses,
        locations=[f"/app/node_modules/{name}/package.json"],
        layer_digest="sha256:" + "c" * 64,
    )


def test_analyzer_reports_forbidden_restricted_and_unknown_but_not_notice() -> None:
    packages = [
        _pkg("agpl", ["AGPL-3.0"]),
        _pkg("gpl", ["GPL-3.0-only"]),
        _pkg("mit", ["MIT"]),
        _pkg("odd", ["Custom EULA"]),
        _pkg("none", []),
    ]
    found = {d.package_purl.split("/")[1].split("@")[0]: d for d in LicenseAnalyzer().scan_packages(packages)}
    assert set(found) == {"agpl", "gpl", "odd"}
    assert (found["agpl"].rule_id, found["agpl"].severity) == ("license-forbidden", "HIGH")
    assert (found["gpl"].rule_id, found["gpl"].severity) == ("license-restricted", "MEDIUM")
    assert (found["odd"].rule_id, found["odd"].evidence) == ("license-unknown", "LicenseRef-Custom-EULA")
    assert all(d.category == "Package" for d in found.values())
    assert found["gpl"].path == "/app/node_modules/gpl/package.json"
    assert found["gpl"].layer_digest == "sha256:" + "c" * 64


def test_a_custom_policy_changes_classes_and_what_is_reported() -> None:
    policy = LicensePolicy(forbidden=["GPL-*"], notice=["*"], severity={"forbidden": "CRITICAL"})
    found = LicenseAnalyzer(policy).scan_packages([_pkg("gpl", ["GPL-3.0-only"]), _pkg("agpl", ["AGPL-3.0"])])
    assert [(d.rule_id, d.severity) for d in found] == [("license-forbidden", "CRITICAL")]
