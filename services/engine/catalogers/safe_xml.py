"""Parsing a cataloger's XML file without DTDs: no entity expansion, no external fetches.

The standard library's parser expands internal entities (a "billion laughs" file grows
without bound), so a document that declares a DTD is refused before parsing; no format
the catalogers read needs one. ``local`` strips the namespace from a tag
(``{http://maven.apache.org/POM/4.0.0}project`` -> ``project``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET


def local(tag: object) -> str:
    """A tag without its ``{namespace}``; "" for comments and processing instructions."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_xml(path: str, data: bytes, root: str) -> tuple[ET.Element | None, str]:
    """The document's root element when it is ``<root>``, else None and a problem naming the file."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None, f"{path}: DTDs are not allowed in {root} documents"
    try:
        element = ET.fromstring(data)
    except ET.ParseError as exc:
        return None, f"{path}: not well-formed XML: {exc}"
    if local(element.tag) != root:
        return None, f"{path}: root element is <{local(element.tag)}>, not <{root}>"
    return element, ""
