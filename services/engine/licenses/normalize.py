"""Declared license texts to SPDX expressions, with license-expression doing the parsing.

``normalize("GPL-2+ or Artistic")`` is ``"GPL-2.0-or-later OR Artistic-1.0"``. A name that is
neither an SPDX identifier nor a known alias (``aliases.toml``: Debian DEP-5 short names,
PyPI classifiers, common free text) becomes ``LicenseRef-<name>``, so nothing declared is
dropped and SPDX consumers still get a valid expression. A URL is one license: the one
``urls.py`` knows it for, else one ``LicenseRef-`` (never split at its slashes); OSGi
``Bundle-License`` attributes (``;link=...``, ``;description=...``) are dropped.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

from license_expression import ExpressionError, Licensing, get_spdx_licensing  # type: ignore[import-untyped]

from services.engine.licenses.names import spdx_from_name
from services.engine.licenses.urls import URL, license_by_url

# a comma before a version ("Apache License, Version 2.0") is part of the name, not a list
_SPLIT = re.compile(
    r"(\(|\)|\s+(?:and|or|with)\s+|\s*,(?!\s*(?:version\b|ver\b|ver\.|v\.?\s?\d|\d))\s*|\s*/\s*(?=[A-Za-z]))",
    re.IGNORECASE,
)
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_CLASSIFIER = "license ::"
_OSGI_ATTR = re.compile(r';\s*(?:link|description)\s*=\s*(?:"[^"]*"|[^,;]*)', re.IGNORECASE)


@cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


@cache
def _aliases() -> dict[str, str]:
    text = resources.files("services.engine.licenses").joinpath("aliases.toml").read_text()
    return {k.lower(): v for k, v in tomllib.loads(text)["aliases"].items()}


@cache
def _spdx_keys() -> dict[str, str]:
    """Lower-cased SPDX license and exception ids (and their aliases) -> canonical id."""
    out: dict[str, str] = {}
    for symbol in _licensing().known_symbols.values():
        out[symbol.key.lower()] = symbol.key
        for alias in getattr(symbol, "aliases", ()) or ():
            out.setdefault(str(alias).lower(), symbol.key)
    return out


def _url_token(match: re.Match[str]) -> str:
    url = match.group(0)
    found = license_by_url(url, _spdx_keys().get)
    return f"({found})" if found and " " in found else found or license_ref(url)


def license_ref(text: str) -> str:
    """``LicenseRef-`` id for a name SPDX does not know."""
    return "LicenseRef-" + (_UNSAFE.sub("-", text).strip("-")[:64] or "unknown")


def _token(token: str) -> str:
    text = token.strip()
    low = text.lower()
    if low.startswith(_CLASSIFIER):
        text = text.rsplit("::", 1)[-1].strip()
        low = text.lower()
    if low in _aliases():
        return _aliases()[low]
    if low in _spdx_keys():
        return _spdx_keys()[low]
    if low.startswith("licenseref-"):
        return text
    return spdx_from_name(text, _spdx_keys().get) or license_ref(text)


@cache
def normalize(declared: str) -> str:
    """An SPDX expression for one declared license text ("" for an empty one)."""
    text = _OSGI_ATTR.sub("", declared).replace('"', "").strip()
    if not text:
        return ""
    if URL.fullmatch(text):
        return license_by_url(text, _spdx_keys().get) or license_ref(text)
    text = URL.sub(_url_token, text)
    whole = text.lower()
    if whole in _aliases():
        return _aliases()[whole]
    if whole.startswith(_CLASSIFIER):
        return _token(text)
    named = spdx_from_name(text, _spdx_keys().get)  # "Apache License, Version 2.0": one name, not a list
    if named:
        return named
    out: list[str] = []
    for part in _SPLIT.split(text):
        if not part or not part.strip():
            continue
        stripped = part.strip()
        if stripped in ("(", ")"):
            out.append(stripped)
        elif stripped.lower() in ("and", "or", "with", ",", "/"):
            out.append({"and": "AND", ",": "AND", "or": "OR", "/": "OR", "with": "WITH"}[stripped.lower()])
        else:
            out.append(_token(stripped))
    expression = " ".join(out).replace("( ", "(").replace(" )", ")")
    try:
        return str(_licensing().parse(expression, validate=False))
    except ExpressionError:
        return license_ref(text)


def normalize_all(declared: list[str] | tuple[str, ...]) -> str:
    """One SPDX expression for all of a package's declared licenses (joined with AND)."""
    parts = [e for e in dict.fromkeys(normalize(d) for d in declared) if e]
    if len(parts) <= 1:
        return parts[0] if parts else ""
    return " AND ".join(f"({p})" if " " in p else p for p in parts)
