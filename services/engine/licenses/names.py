"""Free-text license names to SPDX ids by their parts: family, version and "or later".

POMs, gemspecs, npm and PyPI metadata write one license many ways: ``Apache License,
Version 2.0``, ``apache - v. 2.0``, ``ASL2.0``, ``ECLIPSE PUBLIC LICENSE (EPL), VERSION 1.0``,
``GNU LESSER GENERAL PUBLIC LICENSE V3.0``, ``GPL3+``. A table of spellings never ends, so
a name is read as words instead: the family's words (``GNU LESSER GENERAL PUBLIC``, ``LGPL``),
the version (its number, ``V2``/``ver.``/``version`` markers dropped) and "or later"
(``+``, ``or later``, ``≥``). The name maps only when every word belongs to one family or
to the filler every license name carries (``the``, ``license``, ``version``, month names):
``Apache License 2.0 with Commons Clause`` or a list of two licenses is not one family and
is left to the expression splitter, as is a name with two different versions (``GPL-1+,GPL-2``).
The id built must be a real SPDX id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

_LATER: Final = re.compile(r"\+|≥|>=|\bOR[ -](?:ANY[ -])?LATER\b|\bAND[ -]LATER\b|-OR-LATER\b")
_WORD: Final = re.compile(r"[A-Z]+|\d+(?:\.\d+)*")
_FILLER: Final = frozenset(
    {
        "THE",
        "LICENSE",
        "LICENSED",
        "VERSION",
        "VER",
        "V",
        "ONLY",
        "OF",
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    }
)


@dataclass(frozen=True)
class _Family:
    words: frozenset[str]  # every word a name of this family may use
    anchors: tuple[frozenset[str], ...]  # one of these sets must be wholly present
    template: str  # "Apache-{v}" or, for GNU licenses, "GPL-{v}" + -only/-or-later
    default: str = ""  # the version a name without one means ("apache license" is 2.0)
    gnu: bool = False


def _f(words: str, anchors: tuple[str, ...], template: str, default: str = "", gnu: bool = False) -> _Family:
    return _Family(
        frozenset(words.split()), tuple(frozenset(a.split()) for a in anchors), template, default, gnu
    )


_FAMILIES: Final = (
    _f(
        "GNU LESSER LIBRARY GENERAL PUBLIC LGPL",
        ("LGPL", "LESSER GENERAL", "LIBRARY GENERAL"),
        "LGPL-{v}",
        gnu=True,
    ),
    _f("GNU AFFERO GENERAL PUBLIC AGPL", ("AGPL", "AFFERO"), "AGPL-{v}", gnu=True),
    _f("GNU GENERAL PUBLIC GPL", ("GPL", "GNU GENERAL PUBLIC"), "GPL-{v}", gnu=True),
    _f("APACHE SOFTWARE PUBLIC ASL ASF AL FOUNDATION", ("APACHE", "ASL", "ASF", "AL"), "Apache-{v}", "2.0"),
    _f("ECLIPSE PUBLIC EPL", ("ECLIPSE PUBLIC", "EPL"), "EPL-{v}", "1.0"),
    _f("ECLIPSE DISTRIBUTION EDL", ("ECLIPSE DISTRIBUTION", "EDL"), "BSD-3-Clause"),
    _f("COMMON DEVELOPMENT DISTRIBUTION CDDL", ("CDDL", "COMMON DEVELOPMENT DISTRIBUTION"), "CDDL-{v}"),
    _f("EUROPEAN UNION PUBLIC EUPL", ("EUPL", "EUROPEAN UNION"), "EUPL-{v}"),
    _f("MOZILLA PUBLIC MPL", ("MPL", "MOZILLA PUBLIC"), "MPL-{v}"),
    _f("MIT EXPAT", ("MIT", "EXPAT"), "MIT"),
    _f("UNLICENSE", ("UNLICENSE",), "Unlicense"),
    _f("ISC ISCL", ("ISC", "ISCL"), "ISC"),
    _f("BOOST SOFTWARE BSL", ("BOOST",), "BSL-{v}", "1.0"),
)


def _words(text: str) -> tuple[list[str], bool]:
    """The name's words and numbers (upper case), and whether it says "or later"."""
    up = text.upper().replace("LICENCE", "LICENSE")
    later = bool(_LATER.search(up))
    up = _LATER.sub(" ", up)
    up = re.sub(r"(?<!UN)LICENSED?", " LICENSE ", up)  # ApacheLicense, apache-licensed
    up = up.replace("DEVELOPMENT AND DISTRIBUTION", "DEVELOPMENT DISTRIBUTION").replace(
        "LIBRARY OR LESSER", "LESSER"
    )
    up = re.sub(r"(?<=[A-Z])V(?=\.?\s?\d)", " V ", up)  # ALV2, LGPLV3, EUPL V.1.1
    up = re.sub(r"(?<=[A-Z])(?=\d)|(?<=\d)(?=[A-Z])", " ", up)  # GPL3, ASL2.0
    return _WORD.findall(up), later


def _versions(numbers: list[str]) -> list[str]:
    """The plausible license versions (years and the like are not), as ``major.minor``, in order."""
    out: list[str] = []
    for number in numbers:
        major, _, minor = number.partition(".")
        if int(major) < 10:
            out.append(f"{int(major)}.{minor.split('.')[0] or '0'}")
    return out


def _family(words: set[str]) -> _Family | None:
    for family in _FAMILIES:
        if words <= family.words | _FILLER and any(anchor <= words for anchor in family.anchors):
            return family
    return None


def spdx_from_name(text: str, spdx_id: Callable[[str], str | None]) -> str | None:
    """The SPDX id a free-text license name stands for, or None when it is not one known family.

    ``spdx_id`` maps a lower-cased id to SPDX's spelling (None when SPDX has no such id).
    """
    tokens, later = _words(text)
    words = {t for t in tokens if not t[0].isdigit()}
    family = _family(words)
    if family is None or (words == {"AL"} and not any(t[0].isdigit() for t in tokens)):
        return None
    versions = _versions([t for t in tokens if t[0].isdigit()])
    if len(set(versions)) > 1:
        return None  # "GPL-1+, GPL-2" is a list of two licenses, not one name
    version = versions[0] if versions else family.default
    if "{v}" in family.template and not version:
        return None
    base = family.template.format(v=version)
    if family.gnu:
        base += "-or-later" if later else "-only"
    return spdx_id(base.lower())
