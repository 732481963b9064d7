"""cabal.project.freeze as `cabal freeze` (cabal-install 3.4) writes it, flag settings among the pins."""

from pathlib import Path

from services.engine.catalogers.haskell.hackage import hackage_to_package
from services.engine.catalogers.haskell.parse_cabal_freeze import parse_cabal_freeze

HERE = Path(__file__).parent
REL = "testdata/srv/cabalapp/cabal.project.freeze"


def test_pinned_constraints() -> None:
    result = parse_cabal_freeze(REL, (HERE / REL).read_bytes())
    assert [(p.name, p.version) for p in result.packages] == [
        ("Cabal", "3.2.1.0"),
        ("HUnit", "1.6.2.0"),
        ("aeson", "2.0.3.0"),
        ("base", "4.14.3.0"),
        ("text", "1.2.4.1"),
    ]  # "Cabal -bundled-binary-generic" and "aeson -cffi +ordered-keymap" are flags
    assert result.problems == [f"{REL}: cannot read constraint 'any.weird ==1.x'"]
    pkg = hackage_to_package(result.packages[2], None, "/srv/cabalapp/cabal.project.freeze")
    assert (pkg.purl, pkg.declared) == ("pkg:hackage/aeson@2.0.3.0", True)
