"""Homebrew: installed kegs' formulae and tap formulae."""

from pathlib import Path

from services.engine.catalogers.homebrew.parse_formula import brew_to_package, parse_formula

HERE = Path(__file__).parent
KEG = "testdata/home/linuxbrew/.linuxbrew/Cellar/jq/1.7.1/.brew/jq.rb"
TAP = "testdata/home/linuxbrew/.linuxbrew/Homebrew/Library/Taps/acme/tools/Formula/deployctl.rb"


def test_installed_keg() -> None:
    result = parse_formula(KEG, (HERE / KEG).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version, raw.licenses) == ("jq", "1.7.1", ("MIT",))
    assert raw.metadata["homepage"] == "https://jqlang.github.io/jq/"
    assert brew_to_package(raw, None, "/" + KEG).purl == "pkg:brew/jq@1.7.1"


def test_tap_formula_with_a_version_line() -> None:
    [raw] = parse_formula(TAP, (HERE / TAP).read_bytes()).packages
    assert (raw.name, raw.version, raw.metadata["tap"]) == ("deployctl", "2.3.0", "acme/tools")


def test_versionless_tap_formula_and_not_a_formula() -> None:
    plain = b'class Foo < Formula\n  url "https://x/foo-1.0.tar.gz"\nend\n'
    assert parse_formula("Homebrew/Library/Taps/a/b/Formula/foo.rb", plain).packages == []
    assert parse_formula("Cellar/x/1/.brew/x.rb", b"puts 1\n").problems == [
        "Cellar/x/1/.brew/x.rb: no `class ... < Formula` declaration"
    ]
