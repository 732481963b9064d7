"""Per-scheme behaviour the vector files cannot show: parsing, rejected versions, dispatch, caching."""

from __future__ import annotations

import itertools
import random

import pytest

from services.common.errors import VulnDBError
from services.vulndb.versions import (
    InvalidVersion,
    comparator,
    compare_versions,
    golang,
    maven,
    nuget,
    packagist,
    pep440,
    pub,
    rpm,
    rubygems,
)


def test_rpm_parse_splits_epoch_version_release() -> None:
    assert rpm.parse("1:3.0.7-25.el9") == rpm.RpmVersion("1", "3.0.7", "25.el9")
    assert rpm.parse("3.0.7") == rpm.RpmVersion(None, "3.0.7", None)
    assert rpm.parse("0:1.2-3-4") == rpm.RpmVersion("0", "1.2-3", "4")  # the release follows the last "-"
    # rpmverParse: an epoch is a (possibly empty) run of digits before ":", nothing else
    assert rpm.parse(":1.0") == rpm.RpmVersion("0", "1.0", None)
    assert rpm.parse("x:1.0-1") == rpm.RpmVersion(None, "x:1.0", "1")
    assert rpm.parse("1.0-") == rpm.RpmVersion(None, "1.0", "")


def test_rpm_rejects_only_the_empty_string() -> None:
    with pytest.raises(InvalidVersion, match="invalid rpm version"):
        rpm.compare("", "1.0")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # the verdicts of rpm 4.18's rpm.vercmp (rpmverParse + rpmverCmp) for strings Assay used to reject
        ("x:1.0-1", "1.0-1", -1),  # non-numeric "epoch" text is part of the version: letters < digits
        ("a:1.0", "b:1.0", -1),
        ("1a:1.0", "1:1.0", -1),  # no epoch (digits not followed by ":"), vs epoch 1
        (":1.0", "1.0", 0),  # an empty epoch is 0
        ("01:1.0", "1:1.0", 0),  # epochs compare with rpmvercmp: leading zeros do not count
        ("1:", "1.0", 1),
        ("-1", "0", -1),  # an empty version with release 1
        ("1.0", "1.0-1", -1),  # no release sorts below any release...
        ("1.0-", "1.0", 1),  # ...even an empty one
        # RHEL module-stream releases
        ("8.0.26-1.module+el8.4.0+652+6de068a7", "8.0.26-1.module+el8.4.0+10047+4b0b4d3c", -1),
        ("2.4.37-43.module+el8.5.0+13806+b30d9eec.1", "2.4.37-43.module+el8.5.0+13806+b30d9eec", 1),
        ("3:10.3.28-1.module+el8.3.0+10472+7adc332a", "3:10.3.28-1.module_el8.3.0+10472+7adc332a", 0),
    ],
)
def test_rpm_orders_what_rpm_orders(a: str, b: str, expected: int) -> None:
    assert rpm.compare(a, b) == expected
    assert rpm.compare(b, a) == -expected


@pytest.mark.parametrize(
    "version",
    ["2004d", "1.0-SNAPSHOT-foo", "0.1.33-NA", "french toast", "1.0+_foobar", "1..0"],  # legacy / invalid
)
def test_pep440_legacy_versions_parse_as_invalid_but_order_below_every_valid_one(version: str) -> None:
    with pytest.raises(InvalidVersion, match="not a PEP 440 version"):
        pep440.parse(version)
    # packaging 21.3's LegacyVersion (what OSV's PyPI verdicts use): an epoch of -1.
    assert compare_versions("PyPI", version, "0.0.dev0") == -1
    assert compare_versions("PyPI", "0!0.0.dev0", version) == 1
    assert compare_versions("PyPI", version, version) == 0


# golang/mod semver_test.go: the rows whose canonical form is "" (invalid).
@pytest.mark.parametrize(
    "version",
    [
        "bad",
        "v1-alpha.beta.gamma",
        "v1-pre",
        "v1+meta",
        "v1-pre+meta",
        "v1.2-pre",
        "v1.2+meta",
        "v1.2-pre+meta",
    ],
)
def test_go_invalid(version: str) -> None:
    with pytest.raises(InvalidVersion, match="invalid go version"):
        golang.compare(version, "v1.0.0")


def test_go_canonical() -> None:
    assert golang.canonical("v1") == "1.0.0"
    assert golang.canonical("v1.2") == "1.2.0"
    assert golang.canonical("v1.2.3+incompatible") == "1.2.3+incompatible"


@pytest.mark.parametrize("version", ["junk", "1.0.0.0.0", "1.0.0-", "1.0.0+", "", "1.0.0-beta..1"])
def test_nuget_invalid(version: str) -> None:
    with pytest.raises(InvalidVersion, match="invalid nuget version"):
        nuget.compare(version, "1.0.0")


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "1.0.0-", "1.0.0+", "junk"])
def test_pub_invalid(version: str) -> None:
    with pytest.raises(InvalidVersion, match="invalid pub version"):
        pub.compare(version, "1.0.0")


def test_pub_build_metadata_orders_unlike_semver() -> None:
    assert compare_versions("Pub", "1.0.0+1", "1.0.0") == 1
    assert compare_versions("npm", "1.0.0+1", "1.0.0") == 0


# rubygems test_gem_version.rb test_initialize / test_initialize_bad.
@pytest.mark.parametrize("good", ["1.0", "1.0 ", " 1.0 ", "1.0\n", "\n1.0\n"])
def test_rubygems_surrounding_whitespace_is_ignored(good: str) -> None:
    assert rubygems.compare(good, "1.0") == 0


@pytest.mark.parametrize("bad", ["junk", "1.0\n2.0", "1..0", "1.0-"])
def test_rubygems_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion, match="malformed version number string"):
        rubygems.compare(bad, "1.0")


def test_rubygems_empty_is_zero() -> None:
    assert rubygems.compare("", "0") == 0
    assert rubygems.parse("1.0.0.a.1.0") == (1, "a", 1)
    assert rubygems.parse("1.2.3-1") == (1, 2, 3, "pre", 1)


def _random_maven(rng: random.Random) -> str:
    numbers = ["1", "2", "0", "10"]
    words = ["alpha", "a", "beta", "b", "rc", "cr", "m", "sp", "ga", "final", "x", "snapshot"]
    parts = numbers + words
    text = rng.choice("0123")
    for _ in range(rng.randint(0, 4)):
        text += rng.choice(["", ".", "-", "-"]) + rng.choice(parts)
    return text


def test_maven_orders_any_string_consistently() -> None:
    """Antisymmetric and transitive on random qualifier-laden versions (MNG-5568 was a transitivity bug)."""
    rng = random.Random(7)
    versions = sorted({_random_maven(rng) for _ in range(150)})
    for a, b in itertools.combinations(versions, 2):
        assert maven.compare(a, b) == -maven.compare(b, a), (a, b)
    for a, b, c in itertools.combinations(versions[:60], 3):
        ab, bc, ac = maven.compare(a, b), maven.compare(b, c), maven.compare(a, c)
        if ab <= 0 and bc <= 0:
            assert ac <= 0, (a, b, c)
        if ab >= 0 and bc >= 0:
            assert ac >= 0, (a, b, c)


def test_packagist_canonical_parts() -> None:
    assert packagist.parse("v4.3.2RC1") == ("4", "3", "2", "RC", "1")
    assert packagist.parse("1.0.0-beta_2+x") == ("1", "0", "0", "beta", "2", "x")


@pytest.mark.parametrize(
    "ecosystem",
    [
        "Debian:12",
        "Ubuntu:22.04:LTS",
        "Alpine:v3.20",
        "Red Hat:enterprise_linux:9::baseos",
        "Red Hat:rhel_eus:9.2::appstream",
        "Rocky Linux:9",
        "AlmaLinux:9",
        "openSUSE:Leap 15.5",
        "SUSE:Linux Enterprise Server 15 SP5",
        "PyPI",
        "npm",
        "crates.io",
        "Go",
        "Maven",
        "RubyGems",
        "NuGet",
        "Packagist",
        "Hex",
        "Pub",
    ],
)
def test_dispatch_by_osv_ecosystem_name(ecosystem: str) -> None:
    assert compare_versions(ecosystem, "1.0.0", "2.0.0") == -1
    assert comparator(ecosystem) is comparator(ecosystem)


@pytest.mark.parametrize("ecosystem", ["NoSuchEcosystem", "", "debian", "GitHub Actions", "Bitnami"])
def test_unknown_ecosystem_is_a_vulndb_error(ecosystem: str) -> None:
    with pytest.raises(VulnDBError, match="no version ordering"):
        compare_versions(ecosystem, "1", "2")


def test_invalid_version_is_a_value_error_naming_scheme_version_and_reason() -> None:
    with pytest.raises(ValueError, match=r"invalid semver version '1.0': not MAJOR.MINOR.PATCH") as info:
        compare_versions("npm", "1.0.0", "1.0")
    assert isinstance(info.value, InvalidVersion)
    assert (info.value.scheme, info.value.version) == ("semver", "1.0")


def test_comparisons_and_parsed_versions_are_cached() -> None:
    pep440.parse.cache_clear()
    for _ in range(3):
        assert compare_versions("PyPI", "31.4.1", "31.4.2") == -1  # one parse each, then the pair cache
    assert (pep440.parse.cache_info().misses, pep440.parse.cache_info().hits) == (2, 0)
    assert compare_versions("PyPI", "31.4.2", "31.4.1") == 1  # a new pair: both parses come from the cache
    assert (pep440.parse.cache_info().misses, pep440.parse.cache_info().hits) == (2, 2)
