"""Zipped eggs: EGG-INFO/PKG-INFO inside the archive."""

import io
import zipfile
from pathlib import Path

from services.engine.catalogers.python.parse_egg_archive import parse_egg_archive, parse_egg_archive_stream
from services.engine.catalogers.python.parse_metadata import python_to_package

HERE = Path(__file__).parent
REL = "testdata/usr/local/lib/python3.11/site-packages/backoff_utils-1.4.2-py3.11.egg"


def test_zipped_egg() -> None:
    with (HERE / REL).open("rb") as f:
        result = parse_egg_archive_stream(REL, f)
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version, raw.licenses, raw.metadata["kind"]) == (
        "backoff-utils",
        "1.4.2",
        ("BSD-3-Clause",),
        "egg-zip",
    )
    assert python_to_package(raw, None, "/" + REL).purl == "pkg:pypi/backoff-utils@1.4.2"


def test_broken_eggs_are_problems() -> None:
    assert "not a readable zip" in parse_egg_archive("x.egg", b"PK\x03\x04garbage").problems[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("pkg/__init__.py", "")
    assert parse_egg_archive("x.egg", buffer.getvalue()).problems == ["x.egg: egg without EGG-INFO/PKG-INFO"]
