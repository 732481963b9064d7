"""Templates and static assets of the console, loaded once from this package.

Every template is autoescaped (a value from an image, such as a title or a layer's command, is
text, never markup) and an undefined name is an error, not an empty string. Static files are
read into memory at start-up from ``static/``: the console needs no CDN and works offline.
"""

from __future__ import annotations

import mimetypes
import re
from importlib import resources
from typing import Final
from urllib.parse import quote

import jinja2
from aiohttp import web

from services.api.notes import FARGATE_NOTE

__all__ = [
    "CSP",
    "STATUS_LABELS",
    "Assets",
    "image_name",
    "load_assets",
    "make_templates",
    "path_segment",
    "secure",
]

# No inline script or style anywhere: scripts and styles come only from /console/static.
CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# images.status -> the words the portal's users know
STATUS_LABELS: Final = {
    "pending": "Pending Scan",
    "scanning": "Scanning",
    "scanned": "Scanned",
    "failed": "Failed",
    "too_large": "Too Large",
}

Assets = dict[str, tuple[bytes, str]]  # file name -> (content, content type)


def secure(response: web.StreamResponse) -> web.StreamResponse:
    """``response`` with the console's security headers (CSP, nosniff, no framing, no caching)."""
    response.headers.update(_HEADERS)
    return response


def load_assets() -> Assets:
    """Every file of ``services/console/static`` with its content type."""
    out: Assets = {}
    for entry in resources.files("services.console").joinpath("static").iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            kind = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            out[entry.name] = (entry.read_bytes(), kind)
    return out


_PATH_SAFE: Final = re.compile(r"[A-Za-z0-9_.~:-]*")


def path_segment(value: object) -> str:
    """``value`` as one URL path segment; ids and digests are mostly safe already (the fast path)."""
    text = str(value)
    return text if _PATH_SAFE.fullmatch(text) else quote(text, safe=":")


def _short(digest: str | None) -> str:
    if not digest:
        return ""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else digest[:19]


def image_name(ref: str | None, digest: str) -> str:
    """What a person calls an image: its reference without the digest, else the short digest."""
    if ref:
        return ref.split("@", 1)[0]
    return _short(digest)


def make_templates() -> jinja2.Environment:
    """The console's Jinja2 environment: package templates, autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("services.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["path"] = path_segment
    env.filters["short"] = _short
    env.globals["image_name"] = image_name
    env.globals["status_label"] = lambda status: STATUS_LABELS.get(status, status)
    env.globals["fargate_note"] = FARGATE_NOTE
    return env
