"""setup.py: exact pins from the module's string literals, never by running it."""

from pathlib import Path

from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.catalogers.python.parse_setup_py import parse_setup_py

HERE = Path(__file__).parent


def _parse(rel: str):
    return parse_setup_py(rel, (HERE / rel).read_bytes())


def test_pins_in_lists_and_split_blocks() -> None:
    result = _parse("testdata/srv/setupapp/setup.py")
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("requests", "2.31.0"),  # named twice (list and block): one package
        ("pathlib3", "2.2.0"),  # environment marker after ";"
        ("mypy2", "v0.770"),  # spaces around "=="
        ("flask", "3.0.0"),  # from the """...""".split() block
        ("PyYAML", "6.0.1"),  # extras_require, with its own extras
    ]
    assert all(p.declared for p in result.packages)
    # "oldlib" sits in a comment, "django>=4.2" is a range, f"setupapp-docs=={VERSION}" is built at run time
    assert not {"oldlib", "django", "setupapp-docs"} & {p.name for p in result.packages}


def test_python2_file_is_read_line_by_line() -> None:
    result = _parse("testdata/srv/py2app/setup.py")
    assert [(p.name, p.version) for p in result.packages] == [("simplejson", "3.8.2")]


def test_purl_and_binary_input() -> None:
    raw = _parse("testdata/srv/setupapp/setup.py").packages[4]
    assert python_to_package(raw, None, "/srv/setupapp/setup.py").purl == "pkg:pypi/pyyaml@6.0.1"
    result = parse_setup_py("x/setup.py", b"\x7fELF\x00\x00")
    assert (result.packages, result.problems) == ([], ["x/setup.py: binary data in a setup.py"])
