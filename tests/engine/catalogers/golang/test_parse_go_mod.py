"""go.mod. ``testdata/gomod/src/fixture-svc/go.mod`` was made with ``go mod init`` and ``go mod edit``
(-require, -replace, -exclude), its indirect requirements moved into a second block as Go 1.17+
writes them, then normalised by ``go mod edit -fmt``. ``testdata/gomod/corrupt/go.mod`` is one
``go mod edit -json`` rejects (unterminated block, a requirement without version, a replace
without ``=>``, an unknown directive)."""

from pathlib import Path

from services.engine.catalogers.golang.parse_go_mod import go_mod_to_package, parse_go_mod

HERE = Path(__file__).parent / "testdata"


def _parse(rel: str):
    return parse_go_mod(rel, (HERE / rel).read_bytes())


def test_requirements_with_replace_and_exclude_applied() -> None:
    result = _parse("gomod/src/fixture-svc/go.mod")
    assert result.problems == []
    found = {p.name: p for p in result.packages}
    assert {n: p.version for n, p in found.items()} == {
        "github.com/dgrijalva/jwt-go": "v3.2.0+incompatible",
        "github.com/gin-gonic/gin": "v1.6.3",
        "github.com/new/lib": "v1.2.0",  # replace github.com/old/lib => github.com/new/lib v1.2.0
        "golang.org/x/text": "v0.3.0",
        "gopkg.in/yaml.v2": "v2.2.2",
    }  # example.com/localmod => ../localmod has no version; golang.org/x/net is excluded
    assert found["github.com/new/lib"].metadata["replaced"] == "github.com/old/lib v1.0.0"
    assert found["gopkg.in/yaml.v2"].metadata == {
        "main_module": "example.com/fixture-svc",
        "indirect": "true",
    }
    assert "indirect" not in found["golang.org/x/text"].metadata
    assert all(p.declared for p in result.packages)


def test_purl_namespace_is_the_path_before_the_last_slash() -> None:
    found = {p.name: p for p in _parse("gomod/src/fixture-svc/go.mod").packages}
    text = go_mod_to_package(found["golang.org/x/text"], None, "/src/fixture-svc/go.mod")
    assert (text.type, text.name, text.purl) == (
        "golang",
        "golang.org/x/text",
        "pkg:golang/golang.org/x/text@v0.3.0",
    )
    jwt = go_mod_to_package(found["github.com/dgrijalva/jwt-go"], None, "/src/fixture-svc/go.mod")
    assert jwt.purl == "pkg:golang/github.com/dgrijalva/jwt-go@v3.2.0%2Bincompatible"
    yaml = go_mod_to_package(found["gopkg.in/yaml.v2"], None, "/go.mod")
    assert yaml.purl == "pkg:golang/gopkg.in/yaml.v2@v2.2.2"


def test_single_line_directives_and_versioned_replace() -> None:
    data = (
        b"module m\n\nrequire github.com/a/b v1.0.0\nrequire github.com/c/d v2.0.0 // indirect\n"
        b"replace github.com/a/b v0.9.0 => github.com/x/b v1.1.0\n"  # other version: not applied
        b"replace github.com/c/d v2.0.0 => github.com/y/d v2.0.1\n"
    )
    result = parse_go_mod("go.mod", data)
    assert [(p.name, p.version, p.metadata.get("indirect", "")) for p in result.packages] == [
        ("github.com/a/b", "v1.0.0", ""),
        ("github.com/y/d", "v2.0.1", "true"),
    ]


def test_malformed_lines_are_problems_and_the_rest_is_read() -> None:
    rel = "gomod/corrupt/go.mod"
    result = _parse(rel)
    assert [(p.name, p.version) for p in result.packages] == [
        ("github.com/pkg/errors", "v0.9.1"),
        ("golang.org/x/crypto", "v0.0.0-20190308221718-c2843e01d9a2"),
        ("golang.org/x/text", "v0.3.0"),
    ]
    assert result.problems == [
        f"{rel}: line 5: require block is not closed",
        f"{rel}: line 12: unknown directive 'frobnicate'",
        f"{rel}: line 7: require needs a module path and a version",
        f"{rel}: line 11: replace without '=>'",
    ]
    assert parse_go_mod("bin/go.mod", b"\xff\xfe\x00").problems == ["bin/go.mod: not a UTF-8 text file"]
