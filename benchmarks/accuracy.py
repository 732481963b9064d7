"""Detection accuracy on the fixture images: Assay against syft 1.18.1 and Trivy 0.76, in one run.

For every fixture image present (Debian, Alpine, the rpm images, the planted-content image):

* packages per purl type for Assay, syft and Trivy, and how many each pair agrees on
  (join key: purl type, name, version; see ``purl_key``);
* on the planted-content image, each planted secret and whether Assay and Trivy report it
  (by path), plus what each reports that was not planted;
* the UNKNOWN share of Assay's CVE findings (with ``--vulndata``, else no matching; CVSS by CVE
  id from the CVE JSON 5 records of ``--cvelist`` when that folder exists, plus the real record
  samples beside the tests, ``--ratings``: more CVE JSON 5 records and NVD API 2.0 records);
* wall time and peak RSS of ``assay scan`` without content analysis, with it, and with it plus
  threat feeds loaded (``assay feeds update``), and of syft and Trivy.

Trivy runs offline (its databases cannot be downloaded here): ``trivy image --input`` with
``--offline-scan --skip-db-update --skip-java-db-update --skip-check-update --cache-backend memory
--skip-files '**/*.jar'``; its package list is taken from ``--format cyclonedx``, which needs no
vulnerability database (``--format json --list-all-pkgs`` does). Numbers are printed, never asserted.

    .venv/bin/python benchmarks/accuracy.py [--fixtures DIR] [--vulndata DIR] [--cvelist DIR]
        [--ratings DIR ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench_scan import find_assay, find_syft, find_trivy
from benchproc import BenchError, Sample, run_child
from packageurl import PackageURL

_REPO = Path(__file__).resolve().parent.parent
RATING_SAMPLES = (  # real CVE JSON 5 and NVD records beside the tests (their READMEs say what and whence)
    _REPO / "tests" / "realworld" / "testdata" / "cvelist",
    _REPO / "tests" / "vulndb" / "testdata" / "nvd",
)
IMAGES = {  # name -> OCI layout under the fixtures dir
    "debian": "oci/debian",
    "alpine": "oci/alpine",
    "rhel9": "rpm/oci/rhel9",
    "centos7": "rpm/oci/centos7",
    "amzn2023": "rpm/oci/amzn2023",
    "ol5": "rpm/oci/ol5",
    "content": "content/oci/planted",
}
_OS_TYPES = frozenset({"deb", "apk", "rpm", "alpm", "opkg"})
TRIVY_OFFLINE = [
    "--offline-scan",
    "--skip-db-update",
    "--skip-java-db-update",
    "--skip-check-update",
    "--cache-backend",
    "memory",
    "--quiet",
]
Key = tuple[str, str, str]


def purl_key(purl: str) -> Key | None:
    """(type, name, version) as all three tools can agree on it.

    OS packages drop the namespace (Trivy and syft name rpm vendors differently); PyPI names
    are PEP 503-normalised; an ``epoch`` qualifier goes in front of the version, as Assay
    and syft write deb epochs and Trivy does not; Go versions lose their ``v``.
    """
    try:
        p = PackageURL.from_string(purl)
    except ValueError:
        return None
    name = p.name if p.type in _OS_TYPES or not p.namespace else f"{p.namespace}/{p.name}"
    if p.type == "pypi":
        name = "-".join(name.replace("_", "-").replace(".", "-").split("-"))
    version = p.version or ""
    quals = p.qualifiers if isinstance(p.qualifiers, dict) else {}
    if quals.get("epoch") and ":" not in version:
        version = f"{quals['epoch']}:{version}"
    if p.type == "golang":  # Trivy writes stdlib@v1.19.8, syft and Assay stdlib@1.19.8
        version = version.removeprefix("v")
    return (p.type, name.lower(), version)


def keys_of(purls: Sequence[str]) -> set[Key]:
    return {k for k in map(purl_key, purls) if k is not None}


def agreement(sides: Mapping[str, set[Key]]) -> list[dict[str, Any]]:
    """Per purl type: each tool's count and each pair's common count."""
    types = sorted({k[0] for keys in sides.values() for k in keys})
    names = list(sides)
    rows = []
    for t in types:
        per = {n: {k for k in sides[n] if k[0] == t} for n in names}
        row: dict[str, Any] = {"type": t, **{n: len(per[n]) for n in names}}
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                row[f"{a}&{b}"] = len(per[a] & per[b])
        rows.append(row)
    return rows


def print_rows(title: str, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print(f"\n{title}")
    print("  " + "  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  " + "  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols))


class Tools:
    """The three scanners, run as children of GNU time in one scratch directory."""

    def __init__(self, work: Path, vulndata: Path | None) -> None:
        self.work = work
        self.assay, self.syft, self.trivy = find_assay(), find_syft(), find_trivy(None)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "TRIVY_"))}
        self.env |= {
            "ASSAY_DATA_DIR": str(work / "data"),
            "ASSAY_FEEDS_PATH": str(work / "no-feeds.json"),
            "SYFT_CHECK_FOR_APP_UPDATE": "false",
            "TRIVY_CACHE_DIR": str(work / "trivy-cache"),
        }
        if vulndata is None:
            self.env["ASSAY_DB_PATH"] = str(work / "no-db.sqlite")

    def run(self, key: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[Sample, Path]:
        out = self.work / f"{key}.out"
        return run_child(argv, env or self.env, out), out

    def feeds_env(self) -> dict[str, str]:
        """Settings with threat feeds loaded: a URL list and a CIDR list (see ``write_feeds``)."""
        feeds = self.work / "feeds.json"
        if not feeds.exists():
            urls, cidrs = write_feeds(self.work)
            env = self.env | {"ASSAY_FEEDS_PATH": str(feeds)}
            run_child(
                [self.assay, "feeds", "update", "--source", str(urls), "--source", str(cidrs)],
                env,
                self.work / "feeds.out",
            )
        return self.env | {"ASSAY_FEEDS_PATH": str(feeds)}


def write_feeds(work: Path, urls: int = 20000, nets: int = 2000) -> tuple[Path, Path]:
    """Synthetic feeds the size of a URLhaus export and a DROP list (reserved names and ranges only)."""
    url_file, net_file = work / "urls.txt", work / "drop.txt"
    url_file.write_text(
        "# synthetic URL feed\n" + "".join(f"http://bad{i}.example.test/p/{i}.sh\n" for i in range(urls))
    )
    net_file.write_text(
        "; synthetic CIDR feed\n"
        + "".join(f"198.18.{i // 256 % 256}.{i % 256}/32 ; SBL{i}\n" for i in range(nets))
    )
    return url_file, net_file


def timing(key: str, sample: Sample, summary: str) -> dict[str, Any]:
    return {
        "run": key,
        "wall_s": round(sample.wall_s, 2),
        "peak_rss_mib": round(sample.rss_kib / 1024, 1),
        "output": summary,
    }


def scan_assay(tools: Tools, name: str, layout: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Assay three ways (packages only, content, content + feeds); the report of the content run."""
    target = f"oci:{layout}"
    runs = []
    report: dict[str, Any] = {}
    for mode, extra, env in (
        ("packages only", ["--no-content"], tools.env),
        ("content, no feeds", [], tools.env),
        ("content + feeds", [], tools.feeds_env()),
    ):
        sample, out = tools.run(f"assay-{name}", [tools.assay, "scan", target, "-f", "json", *extra], env)
        data = json.loads(out.read_bytes())
        if mode == "content, no feeds":
            report = data
        summary = f"{len(data['packages'])} packages, {len(data['findings'])} findings"
        runs.append(timing(f"assay {mode}", sample, summary))
    return report, runs


def scan_peers(tools: Tools, name: str, layout: Path) -> tuple[dict[str, set[Key]], list[dict[str, Any]]]:
    sides: dict[str, set[Key]] = {}
    runs = []
    if tools.syft:
        sample, out = tools.run(f"syft-{name}", [tools.syft, f"oci-dir:{layout}", "-o", "json"])
        sides["syft"] = keys_of([a.get("purl", "") for a in json.loads(out.read_bytes())["artifacts"]])
        runs.append(timing("syft", sample, f"{len(sides['syft'])} packages"))
    if tools.trivy:
        argv = [tools.trivy, "image", "--input", str(layout), *TRIVY_OFFLINE, "--skip-files", "**/*.jar"]
        sample, out = tools.run(f"trivy-{name}", [*argv, "--format", "cyclonedx"])
        components = json.loads(out.read_bytes()).get("components", [])
        sides["trivy"] = keys_of([c["purl"] for c in components if c.get("purl")])
        runs.append(timing("trivy (cyclonedx)", sample, f"{len(sides['trivy'])} packages"))
    return sides, runs


def unknown_share(report: Mapping[str, Any]) -> dict[str, Any]:
    cves = [f for f in report.get("findings", []) if f.get("category") == "CVE"]
    unknown = sum(1 for f in cves if f.get("severity") == "UNKNOWN")
    share = round(100 * unknown / len(cves), 1) if cves else None
    return {"cve_findings": len(cves), "unknown": unknown, "unknown_pct": share}


def _at(found: Sequence[tuple[str, str]], path: str) -> str:
    return ",".join(sorted({rule for where, rule in found if where == path})) or "-"


def secrets_table(
    tools: Tools, layout: Path, report: Mapping[str, Any], planted: Sequence[Any]
) -> dict[str, Any]:
    """Each planted secret: found by Assay / Trivy at its path? And what each found that was not planted."""
    ours = [
        (d.get("path", ""), d["rule_id"])
        for d in report.get("detections", [])
        if d.get("category") == "InsecureContent"
    ]
    theirs: list[tuple[str, str]] = []
    if tools.trivy:
        argv = [
            tools.trivy,
            "image",
            "--input",
            str(layout),
            *TRIVY_OFFLINE,
            "--scanners",
            "secret",
            "--format",
            "json",
        ]
        _, out = tools.run("trivy-secrets", argv)
        for result in json.loads(out.read_bytes()).get("Results", []):
            target = str(result.get("Target", ""))  # the --input path for the image config: ""
            target = "" if target == str(layout) else "/" + target.lstrip("/")
            theirs += [(target, s["RuleID"]) for s in result.get("Secrets", [])]
    rows = [
        {
            "planted rule": i["rule"],
            "path": i["path"],
            "assay": _at(ours, i["path"]),
            "trivy": _at(theirs, i["path"]),
        }
        for i in planted
        if i.get("category") == "InsecureContent"
    ]
    paths = {i["path"] for i in planted}
    extra = {
        "assay": dict(Counter(r for p, r in ours if p not in paths)),
        "trivy": dict(Counter(r for p, r in theirs if p not in paths)),
    }
    return {"planted": rows, "not_planted": extra}


def image_section(tools: Tools, name: str, layout: Path, fixtures: Path) -> dict[str, Any]:
    print(f"\n== {name}: {layout}")
    report, runs = scan_assay(tools, name, layout)
    sides, peer_runs = scan_peers(tools, name, layout)
    sides = {"assay": keys_of([p["purl"] for p in report["packages"]]), **sides}
    rows = agreement(sides)
    section: dict[str, Any] = {"packages": rows, "timings": runs + peer_runs, "cves": unknown_share(report)}
    print_rows(f"{name}: packages per purl type (pairs: packages both report)", rows)
    print_rows(f"{name}: wall time and peak RSS", section["timings"])
    print(f"\n{name}: CVE findings {section['cves']}")
    manifest = fixtures / "content" / "manifest.json"
    if name == "content" and manifest.is_file():
        planted = json.loads(manifest.read_text()).get("items", [])
        section["secrets"] = secrets_table(tools, layout, report, planted)
        print_rows(
            "content: planted secrets, and what each tool reports at that path", section["secrets"]["planted"]
        )
        print(f"  reported at paths where nothing was planted: {section['secrets']['not_planted']}")
    return section


def secrets_per_rule(fixtures: Path) -> str:
    """The per-rule table of ``benchmarks/accuracy_secrets.py`` (the secrets corpus benchmark), if present.

    Run as its own process, so this script does not depend on its internals; its output is kept as printed.
    """
    script = Path(__file__).resolve().parent / "accuracy_secrets.py"
    if not script.is_file():
        return "benchmarks/accuracy_secrets.py absent: per-rule secrets table skipped"
    argv = [sys.executable, str(script), "--fixtures", str(fixtures)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    tail = proc.stderr.strip().splitlines()[-5:]
    return proc.stdout if proc.returncode == 0 else f"accuracy_secrets.py exited {proc.returncode}: {tail}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    default_fixtures = Path(os.environ.get("ASSAY_FIXTURES", _REPO / ".fixtures"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--fixtures", type=Path, default=default_fixtures)
    parser.add_argument("--vulndata", type=Path, default=Path("/work/shared/vulndata"))
    parser.add_argument(
        "--cvelist", type=Path, default=Path("/work/shared/cvelist"), help="CVE JSON 5 records"
    )
    parser.add_argument(
        "--ratings",
        type=Path,
        nargs="*",
        default=list(RATING_SAMPLES),
        help="more folders of CVE JSON 5 / NVD API 2.0 records, loaded with --cvelist",
    )
    parser.add_argument("--images", default=",".join(IMAGES), help="comma list of " + ", ".join(IMAGES))
    parser.add_argument("--json", type=Path, help="also write every figure as JSON")
    return parser.parse_args(argv)


def merge_ratings(folders: Sequence[Path], into: Path) -> Path:
    """One folder holding every rating sample (``assay db update --cvss`` takes one location)."""
    for n, folder in enumerate(folders):
        shutil.copytree(folder, into / f"{n}-{folder.name}")
    return into


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    vulndata = args.vulndata if args.vulndata.is_dir() else None
    tools = Tools(work, vulndata)
    print(f"assay: {tools.assay}\nsyft:  {tools.syft or 'not found'}\ntrivy: {tools.trivy or 'not found'}")
    result: dict[str, Any] = {"images": {}}
    if vulndata is not None:
        folders = [f for f in (args.cvelist, *args.ratings) if f.is_dir()]
        cvss = ["--cvss", str(merge_ratings(folders, work / "ratings"))] if folders else []
        sample, _ = tools.run("db", [tools.assay, "db", "update", "--source", str(vulndata), *cvss])
        result["db"] = timing("assay db update", sample, str(vulndata))
        print(f"advisory DB built from {vulndata} {' '.join(cvss)} in {sample.wall_s:.1f} s")
    else:
        print(f"no advisory data at {args.vulndata}: CVE figures are empty")
    for name in args.images.split(","):
        layout = args.fixtures / IMAGES[name]
        if not (layout / "index.json").is_file():
            print(f"\n== {name}: {layout} not built, skipped (make fixtures)")
            continue
        result["images"][name] = image_section(tools, name, layout, args.fixtures)
    result["secrets_per_rule"] = secrets_per_rule(args.fixtures)
    print(f"\n== secrets per rule (benchmarks/accuracy_secrets.py)\n{result['secrets_per_rule']}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="assay-accuracy-") as tmp:
            result = run(args, Path(tmp))
    except BenchError as exc:
        print(f"accuracy: {exc}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
