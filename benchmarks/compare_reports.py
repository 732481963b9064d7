"""Before/after check of a restructure: ``assay scan --format json`` on every fixture image, compared.

``record`` runs the real ``assay scan`` of one checkout (``--checkout DIR``, imported through
``PYTHONPATH``, with this venv's interpreter) on every image the fixture builders wrote (the
``manifest.json`` files under ``.fixtures``, ``.fixtures/rpm`` and ``.fixtures/content``: OCI
layouts, docker and OCI archives) plus the suppression inputs (an ignore file with an expired
entry, an OpenVEX document, ``--ignore-unfixed``) on the Debian image, and writes one
``NAME.json`` (the report) and ``NAME.meta.json`` (exit code, stderr) per target into ``--out``,
and the table, SPDX, CycloneDX and SARIF renderings of two images (``NAME.FORMAT.txt``).
``compare BASE NEW`` removes only the volatile fields (``generated_at``, scan ids, durations, the
run's own temporary paths; in the other formats also timestamps and ``urn:uuid`` serial numbers)
and prints a unified diff per target that differs; exit 1 if any does.

    .venv/bin/python benchmarks/compare_reports.py record --checkout /tmp/base --out /tmp/reports-base
    .venv/bin/python benchmarks/compare_reports.py record --checkout . --out /tmp/reports-new
    .venv/bin/python benchmarks/compare_reports.py compare /tmp/reports-base /tmp/reports-new

Each ``record`` builds its advisory database with the checkout's own ``assay db update`` from the
offline OSV export (``--vulndata``, default ``/work/shared/vulndata``, every ecosystem present)
unless ``--db FILE`` names one, so a checkout is compared as a whole. Layer caching is off.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SUPPRESS_INPUTS = (
    ROOT / "tests" / "policy" / "testdata" / "suppress" / ".assayignore",
    ROOT / "tests" / "policy" / "testdata" / "vex" / "image.openvex.json",
)
VOLATILE_KEYS = frozenset(
    {"generated_at", "completed_at", "started_at", "scan_id", "duration_s", "elapsed_s", "seconds"}
)
OTHER_FORMATS = ("table", "spdx", "cyclonedx", "sarif")
# in the other formats' text: timestamps and random serial numbers
_VOLATILE_TEXT = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)|urn:uuid:[0-9a-f-]{36}"
)
ARCHIVE_SCHEMES = {"oci-layout": "oci", "docker-archive": "docker-archive", "oci-archive": "oci-archive"}


def fixture_targets(fixtures: Path) -> Iterator[tuple[str, str]]:
    """(name, target) of every image listed in the fixture manifests that exist."""
    for sub in ("", "rpm"):
        manifest = fixtures / sub / "manifest.json"
        if not manifest.is_file():
            continue
        for art in json.loads(manifest.read_text())["artifacts"]:
            scheme = ARCHIVE_SCHEMES.get(art["format"])
            if scheme:
                yield art["name"], f"{scheme}:{fixtures / sub / art['path']}"
    content = fixtures / "content" / "manifest.json"
    if content.is_file():
        yield "content-planted", f"oci:{fixtures / 'content' / json.loads(content.read_text())['image']}"


def _run(checkout: Path, env: dict[str, str], args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=checkout,
        env={**env, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def _build_db(checkout: Path, env: dict[str, str], vulndata: Path) -> None:
    ecosystems = sorted(p.name for p in vulndata.iterdir() if (p / "all.zip").is_file())
    proc = _run(
        checkout, env, ["db", "update", "--source", str(vulndata), "--ecosystems", ",".join(ecosystems)]
    )
    if proc.returncode != 0:
        raise SystemExit(f"assay db update failed ({proc.returncode}):\n{proc.stderr}")


def _suppress_args(inputs: Path) -> list[str]:
    files = [
        *(inputs / src.name for src in SUPPRESS_INPUTS),
        inputs / "image.assayignore",
        inputs / "image.vex",
    ]
    args = ["--ignore-unfixed"]
    for f in files:
        args += ["--vex" if "vex" in f.name else "--ignore-file", str(f)]
    return args


def _write_suppress_inputs(inputs: Path, debian_report: Path) -> None:
    """An ignore file and an OpenVEX document naming matches of the Debian image's own report.

    The repository's fixtures name another digest; these reach the image: a VEX ``not_affected``
    (image and package) and ``fixed`` (image digest) statement, an ignore entry that holds until
    2099 and one that expired in 2020.
    """
    matches = sorted(
        json.loads(debian_report.read_text())["matches"], key=lambda m: (m["vuln_id"], m["package_purl"])
    )
    digest = json.loads(debian_report.read_text())["image"]["digest"]
    m = matches[:4] + [{"vuln_id": "NONE", "package_purl": ""}] * (4 - len(matches[:4]))
    oci = "pkg:oci/debian@" + digest.replace(":", "%3A")
    statements = [
        {
            "vulnerability": {"name": m[0]["vuln_id"]},
            "products": [{"@id": oci, "subcomponents": [{"@id": m[0]["package_purl"]}]}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
        },
        {"vulnerability": {"name": m[1]["vuln_id"]}, "products": [{"@id": digest}], "status": "fixed"},
    ]
    vex = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "compare", "statements": statements}
    (inputs / "image.vex").write_text(json.dumps(vex))
    (inputs / "image.assayignore").write_text(
        f"{m[2]['vuln_id']} {m[2]['package_purl']} exp:2099-01-01 # accepted\n"
        f"{m[3]['vuln_id']} exp:2020-01-01 # expired\n"
    )


def record(
    checkout: Path, out: Path, fixtures: Path, vulndata: Path, db: Path | None, only: set[str]
) -> None:
    """Scan every fixture target with ``checkout``'s code; one report and one meta file per target."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="compare-reports-") as tmp:
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        env |= {"ASSAY_DATA_DIR": str(data), "ASSAY_DB_PATH": str(db or data / "vuln.db")}
        # the layer cache off (its variable was renamed with the settings sections)
        sectioned = (checkout / "services" / "settings.py").is_file()
        env["ASSAY_LAYER_CACHE_ENABLED" if sectioned else "ASSAY_LAYER_CACHE"] = "false"
        if db is None:
            _build_db(checkout, env, vulndata)
        inputs = Path(tmp) / "inputs"
        inputs.mkdir()
        for src in SUPPRESS_INPUTS:
            shutil.copy(src, inputs / src.name)
        targets = list(fixture_targets(fixtures))
        runs = [(name, target, "json", []) for name, target in targets]
        debian = dict(targets).get("debian")
        if debian:
            runs.append(("debian-suppressed", debian, "json", _suppress_args(inputs)))
        for fmt in OTHER_FORMATS:  # the renderers too, on two images
            runs += [
                (f"{name}.{fmt}", target, fmt, []) for name, target in targets if name in ("alpine", "debian")
            ]
        for name, target, fmt, extra_args in runs:
            if only and name not in only:
                continue
            if name == "debian-suppressed":
                _write_suppress_inputs(inputs, out / "debian.json")
            proc = _run(checkout, env, ["scan", target, "--format", fmt, *extra_args])
            meta = {"target": target, "args": extra_args, "exit": proc.returncode, "stderr": proc.stderr}
            (out / (f"{name}.json" if fmt == "json" else f"{name}.txt")).write_text(proc.stdout)
            (out / f"{name}.meta.json").write_text(json.dumps(meta, indent=1))
            print(f"{name}: exit {proc.returncode}, {len(proc.stdout)} bytes", flush=True)


def strip_volatile(value: Any) -> Any:
    """``value`` without the keys that change from run to run."""
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    return value


def _normalised(path: Path) -> list[str]:
    text = path.read_text()
    if path.suffix == ".txt":  # another format's output
        return _VOLATILE_TEXT.sub("<VOLATILE>", _unify_temp(text)).splitlines()
    try:
        doc: Any = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return text.splitlines()
    if path.name.endswith(".meta.json"):
        # the run's temporary directory appears in paths and warnings: only its place differs
        doc["stderr"] = _unify_temp(doc["stderr"])
        doc["args"] = [_unify_temp(a) for a in doc["args"]]
    else:
        doc = json.loads(_unify_temp(json.dumps(strip_volatile(doc))))
    return json.dumps(doc, indent=1, sort_keys=True).splitlines()


def _unify_temp(text: str) -> str:
    return re.sub(r"/[^\s\"']*/compare-reports-[a-z0-9_]+", "<TMP>", text)


def compare(base: Path, new: Path, *, context: int = 3, limit: int = 200) -> int:
    """Print a diff per differing target; 0 when every report is identical, 1 otherwise."""
    names = sorted({p.name for p in base.glob("*.*")} | {p.name for p in new.glob("*.*")})
    different = 0
    for name in names:
        a, b = base / name, new / name
        if not a.is_file() or not b.is_file():
            print(f"{name}: only in {'new' if b.is_file() else 'base'}")
            different += 1
            continue
        diff = list(
            difflib.unified_diff(_normalised(a), _normalised(b), str(a), str(b), n=context, lineterm="")
        )
        if not diff:
            print(f"{name}: identical")
            continue
        different += 1
        print(f"{name}: DIFFERENT ({len(diff)} diff lines)")
        print("\n".join(diff[:limit]) + ("\n  ..." if len(diff) > limit else ""))
    print(f"{len(names) - different}/{len(names)} files identical")
    return 1 if different else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="scan every fixture image with one checkout")
    rec.add_argument("--checkout", type=Path, default=ROOT)
    rec.add_argument("--out", type=Path, required=True)
    fixtures = Path(os.environ.get("ASSAY_FIXTURES", ROOT / ".fixtures"))
    rec.add_argument("--fixtures", type=Path, default=fixtures)
    rec.add_argument("--vulndata", type=Path, default=Path("/work/shared/vulndata"))
    rec.add_argument("--db", type=Path, help="an advisory database to use instead of building one")
    rec.add_argument("--only", action="append", default=[], help="only this target name (repeatable)")
    cmp = sub.add_parser("compare", help="diff two recorded directories")
    cmp.add_argument("base", type=Path)
    cmp.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.checkout.resolve(), args.out, args.fixtures, args.vulndata, args.db, set(args.only))
        return 0
    return compare(args.base, args.new)


if __name__ == "__main__":
    sys.exit(main())
