"""requirements.txt: only exact pins, read as pip reads the file (comments, markers, extras, options)."""

from pathlib import Path

from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.catalogers.python.parse_requirements import parse_requirements

HERE = Path(__file__).parent


def _parse(rel: str):
    return parse_requirements(rel, (HERE / rel).read_bytes())


def test_pinned_lines_only() -> None:
    result = _parse("testdata/srv/reqapp/requirements.txt")
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("Django", "3.2.0"),
        ("requests", "2.19.0"),
        ("PyYAML", "5.3"),  # pinned across continuation lines with --hash options
        ("zope.interface", "5.4.0"),  # === arbitrary equality
    ]
    assert all(p.declared for p in result.packages)
    requests = result.packages[1]
    assert requests.metadata == {"extras": "security,socks", "markers": 'python_version >= "3.6"'}


def test_purl_uses_the_normalised_name() -> None:
    raw = _parse("testdata/srv/reqapp/requirements.txt").packages[3]
    pkg = python_to_package(raw, None, "/srv/reqapp/requirements.txt")
    assert (pkg.purl, pkg.declared) == ("pkg:pypi/zope-interface@5.4.0", True)


def test_unreadable_pins_are_problems_and_parsing_goes_on() -> None:
    rel = "testdata-corrupt/srv/broken/requirements.txt"
    result = _parse(rel)
    assert [(p.name, p.version) for p in result.packages] == [("flask", "2.0.1")]
    assert result.problems == [
        f"{rel}: line 2: cannot read requirement '==1.0'",
        f"{rel}: line 4: cannot read requirement 'idna==='",
    ]


def test_binary_file_is_a_problem() -> None:
    result = parse_requirements("x/requirements.txt", b"\x00\x01\xff\xfe")
    assert result.packages == []
    assert result.problems == ["x/requirements.txt: not a UTF-8 or UTF-16 text file"]


def test_utf16_files_with_a_byte_order_mark() -> None:
    little = _parse("testdata/srv/utf16app/requirements.txt")  # UTF-16 LE, CRLF, as PowerShell writes
    assert little.problems == []
    assert [(p.name, p.version) for p in little.packages] == [
        ("attrs", "20.3.0"),
        ("Flask", "2.0.1"),
        ("Werkzeug", "2.0.3"),
    ]
    big = _parse("testdata/srv/utf16app/requirements-dev.txt")  # UTF-16 BE
    assert [(p.name, p.version) for p in big.packages] == [("pytest", "7.4.0")]
    bom = parse_requirements("x/requirements.txt", b"\xef\xbb\xbfsix==1.16.0\n")
    assert [(p.name, p.version) for p in bom.packages] == [("six", "1.16.0")]
