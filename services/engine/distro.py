"""Which operating system an image carries, from its release files.

Checked in order: ``etc/os-release``, ``usr/lib/os-release`` (often what the former links
to), then the distribution-specific files ``etc/alpine-release``, ``etc/debian_version``,
``etc/redhat-release`` and ``etc/centos-release``.
"""

from __future__ import annotations

import re
import shlex

from schemas.records import Distro
from services.engine.requests import FileRequest

RELEASE_FILES: tuple[str, ...] = (
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "etc/redhat-release",
    "etc/centos-release",
)

REQUEST = FileRequest(name="os-release", patterns=RELEASE_FILES, max_bytes=64 * 1024)

_RH_RE = re.compile(r"^(?P<name>.+?)\s+release\s+(?P<version>[\d.]+)")
_RH_IDS = {
    "centos": "centos",
    "red hat enterprise linux": "rhel",
    "rocky linux": "rocky",
    "almalinux": "almalinux",
    "fedora": "fedora",
    "amazon linux": "amzn",
}


def parse_os_release(data: bytes) -> dict[str, str]:
    """``KEY=value`` pairs of an os-release file (shell quoting rules, comments skipped)."""
    out: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            parts = shlex.split(raw)
        except ValueError:
            parts = [raw.strip("\"'")]
        out[key.strip()] = parts[0] if parts else ""
    return out


def detect(files: dict[str, bytes]) -> Distro | None:
    """The distribution named by the first release file present among ``files``."""
    for name in ("etc/os-release", "usr/lib/os-release"):
        if name in files:
            fields = parse_os_release(files[name])
            if fields.get("ID"):
                return Distro(
                    id=fields["ID"].lower(),
                    version_id=fields.get("VERSION_ID", ""),
                    pretty_name=fields.get("PRETTY_NAME", ""),
                    codename=fields.get("VERSION_CODENAME", ""),
                )
    if "etc/alpine-release" in files:
        version = files["etc/alpine-release"].decode(errors="replace").strip()
        return Distro(id="alpine", version_id=version, pretty_name=f"Alpine Linux v{version}")
    if "etc/debian_version" in files:
        version = files["etc/debian_version"].decode(errors="replace").strip()
        major = version.split(".")[0] if version[:1].isdigit() else version
        return Distro(id="debian", version_id=major, pretty_name=f"Debian {version}")
    for name in ("etc/redhat-release", "etc/centos-release"):
        if name in files:
            text = files[name].decode(errors="replace").strip()
            m = _RH_RE.match(text)
            if m:
                lowered = m.group("name").lower()
                distro_id = next((v for k, v in _RH_IDS.items() if lowered.startswith(k)), "rhel")
                return Distro(id=distro_id, version_id=m.group("version"), pretty_name=text)
    return None
