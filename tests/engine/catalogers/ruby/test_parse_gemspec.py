"""Installed gemspecs, copied from the Debian fixture image (Ruby 3.1 default gems, a bundled
gem, and Debian's rubygems-integration tree)."""

from pathlib import Path

import pytest

from services.engine.catalogers.ruby.gem import gem_to_package
from services.engine.catalogers.ruby.parse_gemspec import CATALOGER, parse_gemspec
from services.engine.requests import glob_matches

HERE = Path(__file__).parent


def _parse(rel: str, testdata: str = "testdata"):
    return parse_gemspec(rel, (HERE / testdata / rel).read_bytes())


@pytest.mark.parametrize(
    ("rel", "name", "version", "licenses"),
    [
        (
            "usr/lib/ruby/gems/3.1.0/specifications/default/abbrev-0.1.0.gemspec",
            "abbrev",
            "0.1.0",
            ["Ruby", "BSD-2-Clause"],
        ),
        ("usr/lib/ruby/gems/3.1.0/specifications/default/bundler-2.3.7.gemspec", "bundler", "2.3.7", ["MIT"]),
        ("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", "json", "2.6.1", ["Ruby"]),
        (
            "usr/lib/ruby/gems/3.1.0/specifications/test-unit-3.5.3.gemspec",
            "test-unit",
            "3.5.3",
            ["Ruby", "BSDL", "PSFL"],
        ),
        (
            "usr/share/rubygems-integration/all/specifications/net-telnet-0.2.0.gemspec",
            "net-telnet",
            "0.2.0",
            ["ruby"],
        ),
    ],
)
def test_real_gemspecs(rel: str, name: str, version: str, licenses: list[str]) -> None:
    result = _parse(rel)
    assert result.problems == []
    [raw] = result.packages
    pkg = gem_to_package(raw, None, "/" + rel)
    assert (pkg.name, pkg.version, pkg.licenses) == (name, version, licenses)
    assert pkg.purl == f"pkg:gem/{name}@{version}"
    assert glob_matches(CATALOGER.request.patterns[0], rel)


def test_gem_version_object_single_licence_and_platform() -> None:
    spec = b"""Gem::Specification.new do |spec|
  spec.name = "nokogiri".freeze
  spec.version = Gem::Version.new("1.16.0")
  spec.platform = "x86_64-linux".freeze
  spec.required_rubygems_version = Gem::Requirement.new(">= 3.3.22".freeze)
  spec.license = "MIT".freeze
end
"""
    [raw] = parse_gemspec(
        "var/lib/gems/3.1.0/specifications/nokogiri-1.16.0-x86_64-linux.gemspec", spec
    ).packages
    assert (raw.name, raw.version, raw.licenses) == ("nokogiri", "1.16.0", ("MIT",))
    assert gem_to_package(raw, None, "/x").purl == "pkg:gem/nokogiri@1.16.0?platform=x86_64-linux"


def test_computed_version_is_a_problem() -> None:
    result = _parse("usr/local/bundle/specifications/abbrev-0.1.0.gemspec", "testdata-malformed")
    assert result.packages == []
    assert result.problems == [
        "usr/local/bundle/specifications/abbrev-0.1.0.gemspec: no literal version assignment in the gemspec"
    ]


def test_rubygems_1_percent_q_strings() -> None:
    # the shape RubyGems 1.3-1.8 wrote specifications in (``%q{...}`` literals)
    spec = b"""Gem::Specification.new do |s|
  s.name = %q{rake}
  s.version = "0.8.7"
  s.required_rubygems_version = Gem::Requirement.new(">= 0") if s.respond_to? :required_rubygems_version=
  s.homepage = %q{http://rake.rubyforge.org}
  s.licenses = [%q{MIT}]
end
"""
    [raw] = parse_gemspec("usr/lib/ruby/gems/1.8/specifications/rake-0.8.7.gemspec", spec).packages
    assert (raw.name, raw.version, raw.licenses) == ("rake", "0.8.7", ("MIT",))
    assert raw.metadata["homepage"] == "http://rake.rubyforge.org"
