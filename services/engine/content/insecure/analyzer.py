"""The InsecureCode analyzer: risky image configuration and filesystem contents.

Image config: running as root, ``ADD`` of a URL, port 22 exposed, no healthcheck.
Filesystem (final image only, not copies later layers replaced): setuid and setgid files
not installed by an OS package, world-writable files and directories outside the temp
directories, ``authorized_keys``, password hashes in ``/etc/shadow``, ``.git`` checkouts,
``PermitRootLogin yes``. Secrets in ``Env`` and private keys are the secrets analyzer's
(category InsecureContent), so each finding is reported once.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Sequence
from typing import Any, Final

import msgspec

from schemas.records import Detection, ImageInfo
from schemas.vocabulary import DetectionCategory
from services.engine.content.insecure import checks
from services.engine.content.insecure.catalog import Catalog, load_catalog
from services.engine.content.interface import ContentAnalyzer
from services.engine.ownership import OwnershipIndex
from services.engine.requests import FileRequest, RequestMatcher
from services.engine.walk import FileHit

CATEGORY: Final[DetectionCategory] = "InsecureCode"
SOURCE = "assay-insecure"

MODES = FileRequest(
    name="content-insecure-modes",
    patterns=("**",),
    mode_mask=0o6002,  # setuid, setgid, world-writable
    directories=True,
    metadata_only=True,  # the mode is all it needs: a 6 GiB file is never read, whatever its size
    shadowed=True,  # results must not depend on visibility (per-layer cache); ``finish`` drops hidden ones
    report_oversize=False,
)
FILES = FileRequest(
    name="content-insecure-files",
    patterns=(
        "etc/shadow",
        "etc/ssh/sshd_config",
        "etc/ssh/sshd_config.d/*.conf",
        "**/.ssh/authorized_keys",
        "**/.ssh/authorized_keys2",
        "**/.git/HEAD",
    ),
    max_bytes=4 * 1024 * 1024,
    shadowed=True,
    report_oversize=False,
)


# merged /usr (Debian 12, Fedora, ...): dpkg lists /bin/su, the tar holds usr/bin/su
_USRMERGE = (("usr/bin/", "bin/"), ("usr/sbin/", "sbin/"), ("usr/lib/", "lib/"), ("usr/lib64/", "lib64/"))


def _aliases(path: str) -> list[str]:
    """``path`` and its other name across a merged ``/usr`` (either direction)."""
    path = path.lstrip("/")
    out = [path]
    for merged, legacy in _USRMERGE:
        if path.startswith(merged):
            out.append(legacy + path[len(merged) :])
        elif path.startswith(legacy):
            out.append(merged + path[len(legacy) :])
    return out


class InsecureCodeAnalyzer(ContentAnalyzer):
    """Checks from ``checks.toml``; each detection cites its check's CIS section in the title."""

    name = "insecure"
    version = "1"

    def __init__(self, catalog: Catalog | None = None, catalog_hash: str = "") -> None:
        if catalog is None:
            catalog, catalog_hash = load_catalog()
        self.catalog = catalog
        self._hash = catalog_hash
        self._checks = catalog.by_id()
        missing = set(checks.ALL_CHECKS) - set(self._checks)
        if missing:
            raise ValueError(f"checks.toml lacks {sorted(missing)}")
        self._temp = RequestMatcher([FileRequest(name="temp", patterns=tuple(catalog.temp_dirs))])

    @property
    def requests(self) -> Sequence[FileRequest]:
        return (MODES, FILES)

    def fingerprint(self) -> str:
        return self._hash

    def _detections(self, found: Iterable[checks.Found]) -> list[Detection]:
        out = []
        for check_id, evidence in found:
            check = self._checks[check_id]
            cis = f" (CIS Docker {check.cis})" if check.cis else ""
            out.append(
                Detection(
                    category=CATEGORY,
                    rule_id=check.id,
                    severity=check.severity,
                    title=check.title + cis,
                    evidence=evidence,
                    source=SOURCE,
                )
            )
        return out

    def scan_file(self, hit: FileHit) -> list[Detection]:
        if hit.request == MODES.name:
            is_dir = stat.S_ISDIR(hit.mode)
            in_temp = bool(self._temp.match(hit.path))
            found = checks.mode_checks(hit.path, hit.mode, is_dir=is_dir, in_temp_dir=in_temp)
            return self._detections(found)
        path = hit.path
        if path == "etc/shadow":
            return self._detections(checks.shadow_checks(hit.data))
        if path.startswith("etc/ssh/sshd_config"):
            return self._detections(checks.sshd_checks(hit.data))
        if path.endswith("/.git/HEAD") or path == ".git/HEAD":
            return self._detections(checks.git_checks(path))
        if "/.ssh/authorized_keys" in "/" + path:
            return self._detections(checks.authorized_keys_checks(hit.data))
        return []

    def scan_image(self, image: ImageInfo, config: dict[str, Any]) -> list[Detection]:
        return self._detections(checks.config_checks(config))

    def finish(self, detections: list[Detection], owners: OwnershipIndex) -> list[Detection]:
        """Keep only the final filesystem; drop setuid/setgid files an OS package installed.

        When the image has no OS file lists, setuid/setgid files are kept and marked
        "ownership unknown".
        """
        known = len(owners) > 0
        out: list[Detection] = []
        for d in detections:
            if d.deleted:
                continue
            if d.rule_id in (checks.SETUID, checks.SETGID):
                owner = next((o for p in _aliases(d.path) if (o := owners.owner_of(p))), None)
                if owner is not None:
                    continue
                note = "not installed by any OS package" if known else "ownership unknown (no OS file lists)"
                d = msgspec.structs.replace(d, evidence=f"{d.evidence}; {note}")
            out.append(d)
        return out


__all__ = ["CATEGORY", "FILES", "MODES", "InsecureCodeAnalyzer"]
