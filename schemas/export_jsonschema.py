"""Export one JSON Schema per topic: ``python -m schemas.export_jsonschema [--check] [DIR]``.

Each file ``schemas/jsonschema/<topic>.schema.json`` describes the payloads a subscriber reads from
that topic. It is generated from the msgspec union the topic's decoder is built on
(``schemas.codec.topic_decoder``), so the code stays the single source of truth; a test compares
the committed files with a fresh export, so they cannot go stale. Run it again after adding a field.

Payloads ignore unknown fields (a newer producer may add some), so the schemas do not forbid extra
properties. The ``discriminator`` keyword msgspec adds to tagged unions is OpenAPI's; JSON Schema
validators treat it as an annotation.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import msgspec

from schemas.codec import topic_decoder
from schemas.topics import ALL_TOPICS

__all__ = ["DEFAULT_DIR", "export_all", "render", "topic_schema"]

DEFAULT_DIR: Final = Path(__file__).parent / "jsonschema"
_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


def _normalise(node: Any) -> Any:
    """``node`` in a form that does not depend on the msgspec release that made it.

    msgspec's releases differ in whether they dedent the docstrings they copy into descriptions
    (0.23 does, 0.19 does not) and in the order of an optional field's ``anyOf`` members. Cleaning
    descriptions as ``inspect.cleandoc`` cleans a docstring, and sorting ``anyOf``/``oneOf``
    (whose order means nothing), makes the export a function of the code alone.
    """
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                out[key] = inspect.cleandoc(value)
            elif key in ("anyOf", "oneOf") and isinstance(value, list):
                members = [_normalise(item) for item in value]
                out[key] = sorted(members, key=lambda item: json.dumps(item, sort_keys=True))
            else:
                out[key] = _normalise(value)
        return out
    if isinstance(node, list):
        return [_normalise(item) for item in node]
    return node


def topic_schema(topic: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every payload on ``topic``."""
    body: dict[str, Any] = _normalise(msgspec.json.schema(topic_decoder(topic).type))
    return {
        "$schema": _DIALECT,
        "$id": f"urn:assay:topic:{topic}",
        "title": topic,
        "description": f"A payload on the Kafka topic {topic} (JSON, encoded by schemas.codec).",
        **body,
    }


def render(schema: dict[str, Any]) -> str:
    """The stable text form of a schema: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_all() -> dict[str, str]:
    """File name -> text, for every topic."""
    return {f"{topic}.schema.json": render(topic_schema(topic)) for topic in ALL_TOPICS}


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with ``--check``, compare) the schema files; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m schemas.export_jsonschema", description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file differs from the export")
    args = parser.parse_args(argv)
    out: Path = args.directory
    files = export_all()
    stale = sorted(
        name
        for name, text in files.items()
        if not (out / name).is_file() or (out / name).read_text("utf-8") != text
    )
    extra = sorted(p.name for p in out.glob("*.schema.json") if p.name not in files) if out.is_dir() else []
    if args.check:
        for name in stale:
            print(f"{out / name}: differs from the export", file=sys.stderr)
        for name in extra:
            print(f"{out / name}: no such topic", file=sys.stderr)
        return 1 if stale or extra else 0
    out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (out / name).write_text(files[name], "utf-8")
        print(f"wrote {out / name}")
    for name in extra:
        (out / name).unlink()
        print(f"removed {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
