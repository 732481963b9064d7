"""The shapes of URLs, host names and IP addresses in file bytes: shared by the exact scan and the
prefilter, so that the prefilter's check of a hit reads an address exactly as the scan would."""

from __future__ import annotations

import re

URL = re.compile(rb"""\b(?:https?|ftp)://[^\s"'<>`\\)\]}\x00-\x1f\x7f-\xff]{3,2048}""", re.IGNORECASE)
IPV4 = re.compile(rb"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(rb"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
HOST = re.compile(
    rb"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?![\w-])", re.IGNORECASE
)
