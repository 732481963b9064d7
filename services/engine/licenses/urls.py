"""License URLs to SPDX expressions (``urls.toml``), so a URL is one license, not several tokens.

A POM's ``<url>`` or an OSGi ``Bundle-License`` header often names the license by URL
only (jackson: ``https://www.apache.org/licenses/LICENSE-2.0.txt``). ``license_by_url``
compares URLs without scheme, ``www.``, trailing slash, case and a ``.txt``/``.html``/
``.htm``/``.php``/``.md`` ending; ``opensource.org/licenses/<id>`` and
``spdx.org/licenses/<id>`` resolve any SPDX id they name, as does OSI's newer
``opensource.org/license/<id with - for .>``. An unknown URL gives None.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Final

URL: Final = re.compile(r"(?:https?://|www\.)[^\s,;()<>\"']+", re.IGNORECASE)
_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.-]*://")
_ENDING: Final = re.compile(r"\.(?:txt|html?|php|md)$")
_BY_ID: Final = re.compile(r"^(?:opensource\.org/licenses?|spdx\.org/licenses)/([^/]+)$")
# opensource.org's current paths spell the id with "-" for ".": /license/apache-2-0, /license/mit
_OSI_SLUG: Final = re.compile(r"^opensource\.org/license/([a-z0-9-]+)$")


def url_key(url: str) -> str:
    """The comparable form of a URL: no scheme, ``www.``, query, fragment, trailing ``/``; lower case."""
    key = _SCHEME.sub("", url.strip().lower()).removeprefix("www.")
    key = key.split("#", 1)[0].split("?", 1)[0]
    return key.rstrip("/")


@cache
def _table() -> dict[str, str]:
    text = resources.files("services.engine.licenses").joinpath("urls.toml").read_text()
    return {url_key(k): v for k, v in tomllib.loads(text)["urls"].items()}


def license_by_url(url: str, spdx_id: Callable[[str], str | None]) -> str | None:
    """The SPDX expression a license URL stands for, or None; ``spdx_id`` maps a lower-cased
    name to its SPDX id (None when SPDX has no such license)."""
    key = url_key(url)
    for candidate in (key, _ENDING.sub("", key)):
        found = _table().get(candidate)
        if found:
            return found
        by_id = _BY_ID.match(candidate)
        named = spdx_id(by_id.group(1)) if by_id else None
        if named:
            return named
        slug = _OSI_SLUG.match(candidate)
        if slug:
            named = spdx_id(re.sub(r"(?<=\d)-(?=\d)", ".", slug.group(1)))
            if named:
                return named
    return None
