"""Declared licenses: Debian copyright files, normalisation to SPDX, and the license policy."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from schemas.records import PackageRecord
from services.common.errors import ConfigError
from services.engine.catalogers.debian.companions import copyright_package, parse_copyright
from services.engine.licenses.analyzer import LicenseAnalyzer
from services.engine.licenses.normalize import normalize, normalize_all
from services.engine.licenses.policy import LicensePolicy, classify, default_policy, parse_policy

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


def _bundle_licenses() -> dict[str, str]:
    """jar file name -> its real Bundle-License header (testdata/bundle-licenses.tsv)."""
    rows = (TESTDATA / "bundle-licenses.tsv").read_text().splitlines()
    return {path.rsplit("/", 1)[-1]: value for path, value in (r.split("\t") for r in rows if r[:1] != "#")}


@pytest.mark.parametrize(
    ("jar", "spdx"),
    [
        ("jackson-annotations-2.15.2.jar", "Apache-2.0"),  # https://www.apache.org/licenses/LICENSE-2.0.txt
        ("jackson-datatype-jdk8-2.16.1.jar", "Apache-2.0"),  # the same over http
        ("failsafe-3.3.2.jar", "Apache-2.0"),  # http://apache.org/licenses/LICENSE-2.0
        ("gson-2.10.1.jar", "Apache-2.0"),  # "Apache-2.0";link="..."
        ("config-1.4.1.jar", "Apache-2.0"),  # URL;description=Apache-2.0
        ("zstd-jni-1.5.5-11.jar", "BSD-2-Clause"),
        ("protobuf-java-4.28.2.jar", "BSD-3-Clause"),  # opensource.org/licenses/<id>
        ("jul-to-slf4j-2.0.18.jar", "MIT"),  # opensource.org/license/mit
        ("jopt-simple-5.0.4.jar", "MIT"),  # opensource.org/licenses/mit-license.php
        ("jakarta.activation-api-2.1.4.jar", "BSD-3-Clause"),  # the Eclipse Distribution License
        ("org.eclipse.sisu.inject-0.9.0.M2.jar", "EPL-1.0"),  # a quoted name with a comma, ;link=
        ("org.eclipse.sisu.inject-1.0.0.jar", "EPL-2.0"),
        ("jakarta.annotation-api-2.1.1.jar", "EPL-2.0 AND GPL-2.0-only WITH Classpath-exception-2.0"),
        ("javax.annotation-api-1.2.jar", "CDDL-1.0 OR GPL-2.0-only WITH Classpath-exception-2.0"),
        ("HdrHistogram-2.2.2.jar", "CC0-1.0 AND BSD-2-Clause"),
        ("javassist-3.30.2-GA.jar", "MPL-1.1 AND LGPL-2.1-only AND Apache-2.0"),
        ("jetty-io-12.0.16.jar", "EPL-2.0 AND Apache-2.0"),
    ],
)
def test_license_urls_in_real_bundle_license_headers_become_spdx_ids(jar: str, spdx: str) -> None:
    assert normalize(_bundle_licenses()[jar]) == spdx


def test_an_unknown_license_url_is_one_licenseref_not_one_per_path_segment() -> None:
    headers = _bundle_licenses()
    assert normalize(headers["jsoup-1.16.1.jar"]) == "LicenseRef-https-jsoup.org-license"
    for value in headers.values():
        expression = normalize(value)
        refs = [t for t in expression.split() if t.startswith("LicenseRef-")]
        assert len(refs) <= value.count("://"), (value, expression)
        assert not any(t in ("LicenseRef-https", "LicenseRef-http", "LicenseRef-www") for t in refs)


@pytest.mark.parametrize(
    ("declared", "spdx"),
    [
        # <licenses><license><name> of real POMs (guava, junit, logback, jaxb, bcprov, javax.servlet)
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("Eclipse Public License 1.0", "EPL-1.0"),
        ("Eclipse Public License - v 1.0", "EPL-1.0"),
        ("GNU Lesser General Public License, Version 2.1", "LGPL-2.1-only"),
        ("Eclipse Distribution License - v 1.0", "BSD-3-Clause"),
        ("Bouncy Castle Licence", "MIT"),
        ("CDDL + GPLv2 with classpath exception", "CDDL-1.1 OR GPL-2.0-only WITH Classpath-exception-2.0"),
        ("GPL2 w/ CPE", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("BSD 3-Clause", "BSD-3-Clause"),
        ("Public Domain", "LicenseRef-public-domain"),
        ("BSDL", "BSD-2-Clause"),  # the gemspecs of Ruby's default gems (Debian's ruby3.1)
        ("PSFL", "PSF-2.0"),
        # a name that does not say which version stays a LicenseRef rather than a guess
        ("GNU Lesser General Public License", "LicenseRef-GNU-Lesser-General-Public-License"),
    ],
)
def test_common_license_names_map_to_spdx(declared: str, spdx: str) -> None:
    assert normalize(declared) == spdx


def _os_pkg(name: str, licenses: list[str], type_: str = "deb", owner: str = "") -> PackageRecord:
    return PackageRecord(
        name=name,
        version="1.0",
        type=type_,
        purl=f"pkg:{type_}/debian/{name}@1.0" if type_ == "deb" else f"pkg:{type_}/{name}@1.0",
        licenses=licenses,
        owner=owner,
        locations=[f"/usr/share/doc/{name}/copyright"],
    )


def test_os_owned_packages_licenses_are_informational_by_default() -> None:
    bash = _os_pkg("bash", ["GPL-3+"])
    busybox = _os_pkg("busybox", ["GPL-2.0-only"], type_="apk")
    owned = _os_pkg("PyYAML", ["GPL-3.0-only"], type_="pypi", owner="pkg:deb/debian/python3-yaml@6.0-3")
    app = _pkg("gpl", ["GPL-3.0-only"])
    found = LicenseAnalyzer().scan_packages([bash, busybox, owned, app])
    assert [d.package_purl for d in found] == [app.purl]
    judged = LicenseAnalyzer(msgspec.structs.replace(default_policy(), os_packages="judged"))
    assert {d.package_purl for d in judged.scan_packages([bash, busybox, owned, app])} == {
        bash.purl,
        busybox.purl,
        owned.purl,
        app.purl,
    }


def test_policy_scope_from_toml_and_a_bad_scope_is_a_config_error() -> None:
    assert default_policy().os_packages == "informational"
    judged = parse_policy('[scope]\nos_packages = "judged"\n[classes]\nrestricted = ["GPL-*"]\n', "p.toml")
    assert (judged.os_packages, judged.restricted) == ("judged", ["GPL-*"])
    assert parse_policy("[classes]\nnotice = ['MIT']\n", "p.toml").os_packages == "informational"
    with pytest.raises(ConfigError, match=r"p.toml: \[scope\] os_packages must be one of"):
        parse_policy('[scope]\nos_packages = "all"\n', "p.toml")


def test_dep5_names_and_exceptions_of_debian_12_copyright_files() -> None:
    bash = normalize_all(parse_copyright((TESTDATA / "bash.copyright").read_bytes()))
    assert "GPL-3.0-or-later WITH Bison-exception-2.2" in bash  # "GPL-3+ with Bison exception"
    assert "GFDL-1.3-no-invariants-only" in bash  # "GFDL-NIV-1.3"
    e2fsprogs = normalize_all(parse_copyright((TESTDATA / "e2fsprogs.copyright").read_bytes()))
    assert "GPL-2.0-or-later WITH Texinfo-exception" in e2fsprogs
    assert "Apache-2.0" in e2fsprogs  # "Apache-2"
    for expression in (bash, e2fsprogs):
        assert classify(expression, default_policy()) == "restricted"
