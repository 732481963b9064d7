"""Gemfile.lock: typeprof 0.21.2's own (shipped in the Debian fixture image's ruby gems tree)
and a Bundler 2.5 lockfile written by hand in Bundler's layout with GIT, PATH, GEM,
platform-specific gems and a CHECKSUMS section."""

from pathlib import Path

from services.engine.catalogers.ruby.gem import gem_to_package
from services.engine.catalogers.ruby.parse_gemfile_lock import parse_gemfile_lock

HERE = Path(__file__).parent


def _parse(rel: str, testdata: str = "testdata"):
    return parse_gemfile_lock(rel, (HERE / testdata / rel).read_bytes())


def test_real_lockfile_gem_and_path_sections() -> None:
    result = _parse("usr/lib/ruby/gems/3.1.0/gems/typeprof-0.21.2/Gemfile.lock")
    assert result.problems == []
    got = {p.key(): p.metadata["source"] for p in result.packages}
    assert len(got) == 11
    assert got[("typeprof", "0.21.2")] == "path"  # the gem's own source tree
    assert got[("rbs", "2.0.0")] == "gem"
    assert ("racc", "1.4") not in got  # dependency constraints (six spaces) are not gems
    assert all(p.declared for p in result.packages)


def test_sections_platforms_and_checksums() -> None:
    result = _parse("srv/rails-app/Gemfile.lock")
    assert result.problems == []
    assert [(p.name, p.version, p.metadata.get("source")) for p in result.packages] == [
        ("rack", "3.1.0", "git"),
        ("billing", "0.1.0", "path"),
        ("mini_portile2", "2.8.5", "gem"),
        ("nokogiri", "1.16.0", "gem"),  # the ruby and two platform builds are one version
        ("racc", "1.7.3", "gem"),
        ("rake", "13.1.0", "gem"),
    ]
    pkg = gem_to_package(result.packages[3], None, "/srv/rails-app/Gemfile.lock")
    assert (pkg.purl, pkg.declared) == ("pkg:gem/nokogiri@1.16.0", True)


def test_platform_only_gem_keeps_its_platform_as_a_qualifier() -> None:
    lock = b"GEM\n  remote: https://rubygems.org/\n  specs:\n    ffi (1.16.3-x86_64-linux-gnu)\n"
    [raw] = parse_gemfile_lock("Gemfile.lock", lock).packages
    assert (raw.version, raw.metadata["platform"]) == ("1.16.3", "x86_64-linux-gnu")
    assert gem_to_package(raw, None, "/Gemfile.lock").purl == "pkg:gem/ffi@1.16.3?platform=x86_64-linux-gnu"


def test_malformed_lines_and_files_are_problems() -> None:
    result = _parse("srv/broken/Gemfile.lock", "testdata-malformed")
    assert [p.key() for p in result.packages] == [("rake", "13.1.0")]
    assert result.problems == [
        "srv/broken/Gemfile.lock: line 5: not a 'name (version)' gem line: 'racc 1.7.3'",
        "srv/broken/Gemfile.lock: line 6: not a 'name (version)' gem line: 'mini_portile2 (2.8.5'",
    ]
    assert _parse("srv/json/Gemfile.lock", "testdata-malformed").problems == [
        "srv/json/Gemfile.lock: no GEM, GIT or PATH section: not a Gemfile.lock"
    ]
