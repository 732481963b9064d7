"""``META-INF/maven/<groupId>/<artifactId>/pom.properties``, written by Maven when it builds a jar.

The file is in Java properties format: ``key=value`` or ``key: value``, ``#``/``!`` comments,
a trailing backslash continues a line. Each file names one Maven artifact: the jar itself,
or a dependency shaded into it.
"""

from __future__ import annotations

import msgspec


class PomProperties(msgspec.Struct, frozen=True, kw_only=True):
    """One artifact's coordinates; ``path`` is the file's path inside the archive."""

    path: str
    group_id: str
    artifact_id: str
    version: str

    def key(self) -> tuple[str, str, str]:
        return (self.group_id, self.artifact_id, self.version)


def _logical_lines(text: str) -> list[str]:
    out: list[str] = []
    pending = ""
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.lstrip() if pending else raw.strip()
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:  # an odd number of backslashes: the line goes on
            pending += line[:-1]
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def parse_properties(data: bytes) -> dict[str, str]:
    """Keys and values of a properties file (ISO 8859-1 per the format, UTF-8 accepted)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    props: dict[str, str] = {}
    for line in _logical_lines(text):
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut < 0:
            key, value = line.split(None, 1)[0], (line.split(None, 1)[1:] or [""])[0]
        else:
            key, value = line[:cut], line[cut + 1 :]
        props.setdefault(key.strip(), value.strip())
    return props


def parse_pom_properties(path: str, data: bytes) -> PomProperties | None:
    """The artifact named by one pom.properties, or None without both artifactId and version (as syft)."""
    props = parse_properties(data)
    artifact = props.get("artifactId", "")
    version = props.get("version", "")
    if not artifact or not version:
        return None
    return PomProperties(path=path, group_id=props.get("groupId", ""), artifact_id=artifact, version=version)
