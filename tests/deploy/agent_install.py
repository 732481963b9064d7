"""What ``assay environments add cluster NAME --agent`` prints, read back as Helm and kubectl would:
the chart values of its ``helm install`` line and the Secrets of its ``kubectl create secret`` lines."""

from __future__ import annotations

import shlex
from typing import Any

__all__ = ["helm_values", "printed_secrets"]


def _set(values: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        values = values.setdefault(key, {})
    values[leaf] = value


def helm_values(lines: list[str]) -> dict[str, Any]:
    """The values of the printed ``helm install ... --set k=v --set-string k=v`` line, as Helm reads
    them (``--set`` types booleans, ``--set-string`` keeps strings, ``\\,`` is a literal comma)."""
    (command,) = [line.strip() for line in lines if line.strip().startswith("helm install")]
    words = shlex.split(command)
    assert words[:4] == ["helm", "install", "assay-agent", "deploy/helm/assay"], command
    values: dict[str, Any] = {}
    for flag, assignment in zip(words[4::2], words[5::2], strict=True):
        key, _, raw = assignment.partition("=")
        assert "," not in raw.replace("\\,", ""), f"{assignment}: Helm would split it"
        text = raw.replace("\\,", ",")
        if flag == "--set":
            assert text in ("true", "false"), f"{assignment}: only booleans are set untyped"
            _set(values, key, text == "true")
        else:
            assert flag == "--set-string", flag
            _set(values, key, text)
    return values


def printed_secrets(lines: list[str], namespace: str) -> dict[tuple[str, str], str]:
    """(Secret, key) -> value of the printed ``kubectl -n NAMESPACE create secret`` lines."""
    found: dict[tuple[str, str], str] = {}
    for line in lines:
        words = shlex.split(line)
        if words[:5] != ["kubectl", "-n", namespace, "create", "secret"]:
            continue
        kind, name, args = words[5], words[6], words[7:]
        for arg in args:
            flag, _, value = arg.partition("=")
            if kind == "tls":
                found[(name, {"--cert": "tls.crt", "--key": "tls.key"}[flag])] = value
            else:
                key, _, content = value.partition("=")
                found[(name, key)] = content
    return found
