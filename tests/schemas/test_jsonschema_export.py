"""The committed per-topic JSON Schemas equal a fresh export, and every golden payload validates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from schemas import ALL_TOPICS
from schemas.export_jsonschema import DEFAULT_DIR, export_all, main
from tests.schemas.evolution import TAGS_FILE, golden_payloads, load_json

PAYLOADS = golden_payloads()


def _schema(topic: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((DEFAULT_DIR / f"{topic}.schema.json").read_text("utf-8"))
    return schema


def _topic(path: Path) -> str:
    return str(load_json(TAGS_FILE)[path.stem]["topic"])


def test_committed_schemas_equal_a_fresh_export() -> None:
    committed = {p.name: p.read_text("utf-8") for p in DEFAULT_DIR.glob("*.schema.json")}
    fresh = export_all()
    assert sorted(committed) == sorted(f"{t}.schema.json" for t in ALL_TOPICS)
    stale = sorted(name for name in fresh if committed.get(name) != fresh[name])
    assert not stale, f"stale JSON Schemas {stale}: run python -m schemas.export_jsonschema"


def test_check_mode_reports_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    victim = tmp_path / "assay.findings.v1.schema.json"
    victim.write_text(victim.read_text("utf-8").replace('"finding_id"', '"findingid"'), "utf-8")
    (tmp_path / "assay.retired.v0.schema.json").write_text("{}", "utf-8")
    assert main(["--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "assay.findings.v1.schema.json: differs" in err
    assert "assay.retired.v0.schema.json: no such topic" in err
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_schema_is_a_valid_draft_2020_12_schema(topic: str) -> None:
    schema = _schema(topic)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == topic


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_payload_validates_against_its_topic_schema(path: Path) -> None:
    validator = Draft202012Validator(_schema(_topic(path)))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(json.loads(path.read_bytes()))
    ]
    assert errors == []


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_schema_rejects_a_payload_missing_a_required_field(path: Path) -> None:
    """The schemas say something: dropping a required field or retyping one fails validation."""
    schema = _schema(_topic(path))
    payload = json.loads(path.read_bytes())
    validator = Draft202012Validator(schema)
    required = [k for k in payload if k != "type" and _is_required(schema, payload["type"], k)]
    assert required, f"{path.name}: no required field besides the tag"
    with pytest.raises(ValidationError):
        validator.validate({k: v for k, v in payload.items() if k != required[0]})
    with pytest.raises(ValidationError):
        validator.validate({**payload, "type": "no.such.event"})


def _is_required(schema: dict[str, Any], tag: str, field: str) -> bool:
    for definition in schema["$defs"].values():
        if definition.get("properties", {}).get("type", {}).get("enum") == [tag]:
            return field in definition.get("required", [])
    raise AssertionError(f"no definition for tag {tag!r}")
