"""Regenerate the wire-schema snapshots on purpose: ``python -m tests.schemas.regen [--payloads vN]``.

* ``golden/tags.json`` and ``golden/fields.json`` are rewritten from the code. Tags no longer in use
  are kept as ``retired`` so they can never be reused.
* Breaking differences (a field removed or retyped, a default changed, a tag renamed or reused, a new
  field without a default) are refused unless ``--allow-breaking`` is given; a breaking change
  belongs on a new topic version (``assay.<name>.v2``), see ``schemas/topics.py``.
* ``--payloads vN`` freezes ``tests/schemas/samples.py`` into a new ``golden/vN/``. Existing
  versions are history and are never rewritten: older payloads must keep decoding.

Run from the repository root, with the project's venv.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from schemas import encode_event
from tests.schemas.evolution import (
    FIELDS_FILE,
    GOLDEN,
    TAGS_FILE,
    check_fields,
    check_tags,
    event_classes,
    field_snapshot,
    load_json,
    merge_tags,
    tag_of,
    tag_snapshot,
)
from tests.schemas.samples import SAMPLES


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _payload_dir(version: str) -> Path:
    """``golden/<version>``, refused when malformed or already there (released versions are history)."""
    if not re.fullmatch(r"v[1-9][0-9]*", version):
        raise SystemExit(f"--payloads wants a version like v2, not {version!r}")
    target = GOLDEN / version
    if target.exists():
        raise SystemExit(f"{target} exists: golden payloads of a released version are never rewritten")
    return target


def write_payloads(target: Path) -> list[Path]:
    """Encode every sample into ``<target>/<tag>.json``."""
    target.mkdir(parents=True)
    written = []
    for sample in SAMPLES:
        path = target / f"{tag_of(type(sample))}.json"
        # Indented for review; whitespace is irrelevant to the decoder.
        path.write_bytes(msgspec.json.format(encode_event(sample), indent=2) + b"\n")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.schemas.regen", description=__doc__.split("\n\n")[0])
    p.add_argument("--payloads", metavar="VERSION", help="also freeze the samples as golden/VERSION/")
    p.add_argument("--allow-breaking", action="store_true", help="write snapshots despite breaking changes")
    args = p.parse_args(argv)
    payload_dir = _payload_dir(args.payloads) if args.payloads else None

    recorded_tags, recorded_fields = load_json(TAGS_FILE), load_json(FIELDS_FILE)
    current_fields = field_snapshot()
    violations = check_tags(recorded_tags, event_classes()) + check_fields(recorded_fields, current_fields)
    breaking = [v for v in violations if v.breaking]
    for v in violations:
        print(f"{'BREAKING' if v.breaking else 'update'}: {v}")
    if breaking and not args.allow_breaking:
        print(f"refusing to record {len(breaking)} breaking change(s); see --allow-breaking", file=sys.stderr)
        return 1

    _write_json(TAGS_FILE, merge_tags(recorded_tags, tag_snapshot()))
    _write_json(FIELDS_FILE, current_fields)
    print(f"wrote {TAGS_FILE} and {FIELDS_FILE}")
    if payload_dir is not None:
        for path in write_payloads(payload_dir):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
