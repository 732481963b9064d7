"""``META-INF/MANIFEST.MF``: the JAR manifest format (https://docs.oracle.com/en/java/javase/21/docs/specs/jar/jar.html).

Sections are separated by blank lines; a line starting with one space continues the previous
value (writers wrap at 72 bytes, mid-word, so only that one space is removed). The first
section is the main section, which describes the archive itself.
"""

from __future__ import annotations

import msgspec


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """The main section's attributes (first spelling of a key wins) and the per-entry sections."""

    main: dict[str, str] = {}
    sections: list[dict[str, str]] = []

    def get(self, key: str) -> str:
        """A main-section value by case-insensitive name, or ""."""
        for k, v in self.main.items():
            if k.lower() == key.lower():
                return v
        return ""

    def anywhere(self, key: str) -> str:
        """The value from the main section, else from the first entry section that has it."""
        value = self.get(key)
        if value:
            return value
        for section in self.sections:
            for k, v in section.items():
                if k.lower() == key.lower() and v:
                    return v
        return ""


def parse_manifest(data: bytes) -> Manifest:
    """Parse a manifest; lines that are not ``Key: value`` are skipped, never an error."""
    text = data.decode("utf-8", errors="replace")
    sections: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    last_key = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            current, last_key = None, ""
            continue
        if line.startswith(" "):
            if current is not None and last_key:
                current[last_key] += line[1:]
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key:
            continue
        if current is None:
            current = {}
            sections.append(current)
        if key not in current:
            current[key] = value.strip()
            last_key = key
        else:
            last_key = ""  # a repeated key's continuation lines belong to the ignored repeat
    if not sections:
        return Manifest()
    return Manifest(main=sections[0], sections=sections[1:])
