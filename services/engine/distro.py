"""Which operating system an image carries, from its release files.

Checked in order:

1. ``etc/os-release``, then ``usr/lib/os-release`` (often what the former links to; the walk
   does not follow symlinks): ``ID``, ``VERSION_ID``, ``PRETTY_NAME`` and the codename from
   ``VERSION_CODENAME``, ``UBUNTU_CODENAME`` or the parenthesised word of ``VERSION``
   (``12 (bookworm)``). Debian testing/sid and some distroless images give no ``VERSION_ID``:
   ``etc/debian_version`` supplies it when it is numeric.
2. ``etc/alpine-release``, ``etc/debian_version``.
3. The Red Hat family's ``NAME release VERSION (CODENAME)`` files, most specific first:
   Rocky, AlmaLinux, CentOS, Fedora, Oracle Linux, Amazon Linux's ``etc/system-release``, then
   ``etc/redhat-release`` (which the others often link to).
4. A distroless Debian image with neither os-release nor debian_version still has dpkg's
   per-package ``var/lib/dpkg/status.d/`` files: Debian, release unknown.

IDs are os-release's (``rhel``, ``centos``, ``rocky``, ``almalinux``, ``fedora``, ``amzn``, ``ol``,
``debian``, ``ubuntu``, ``alpine``), the keys services/vulndb/resolvers.py maps to OSV ecosystems.
"""

from __future__ import annotations

import re
import shlex

from schemas.records import Distro
from services.engine.requests import FileRequest

_REDHAT_FAMILY: tuple[str, ...] = (
    "etc/rocky-release",
    "etc/almalinux-release",
    "etc/centos-release",
    "etc/fedora-release",
    "etc/oracle-release",  # Oracle Linux 5-6 have no os-release, and their redhat-release says RHEL
    "etc/system-release",
    "etc/redhat-release",
)
_DISTROLESS_DPKG = "var/lib/dpkg/status.d/"

RELEASE_FILES: tuple[str, ...] = (
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    *_REDHAT_FAMILY,
)

REQUEST = FileRequest(
    # 1 MiB: distroless status.d also holds per-package .md5sums lists, larger than any release file
    name="os-release",
    patterns=(*RELEASE_FILES, _DISTROLESS_DPKG + "*"),
    max_bytes=1024 * 1024,
)

_RH_RE = re.compile(r"^(?P<name>.+?)\s+release\s+(?P<version>[\d.]+)(?:\s+\((?P<codename>[^)]*)\))?")
# release-file product names, lower case, most specific first -> os-release ID
_RH_IDS: tuple[tuple[str, str], ...] = (
    ("red hat enterprise linux", "rhel"),
    ("centos", "centos"),
    ("rocky linux", "rocky"),
    ("almalinux", "almalinux"),
    ("fedora", "fedora"),
    ("amazon linux", "amzn"),
    ("oracle linux", "ol"),
)
_PAREN_RE = re.compile(r"\(([^)]+)\)")


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


def _debian_major(files: dict[str, bytes]) -> str:
    """The major release in ``etc/debian_version`` (``12.8`` -> ``12``), "" for ``trixie/sid``."""
    version = files.get("etc/debian_version", b"").decode(errors="replace").strip()
    return version.split(".")[0] if version[:1].isdigit() else ""


def _codename(fields: dict[str, str]) -> str:
    for key in ("VERSION_CODENAME", "UBUNTU_CODENAME"):
        if fields.get(key):
            return fields[key].lower()
    m = _PAREN_RE.search(fields.get("VERSION", ""))
    word = m.group(1).split()[0].lower() if m and m.group(1).split() else ""
    # "12 (bookworm)", "20.04.6 LTS (Focal Fossa)"; not Red Hat's "9.0 (Plow)", which is no codename
    return word if fields.get("ID", "").lower() in ("debian", "ubuntu") else ""


def _from_os_release(files: dict[str, bytes]) -> Distro | None:
    for name in ("etc/os-release", "usr/lib/os-release"):
        if name not in files:
            continue
        fields = parse_os_release(files[name])
        distro_id = fields.get("ID", "").lower()
        if not distro_id:
            continue
        version_id = fields.get("VERSION_ID", "")
        if not version_id and distro_id == "debian":
            version_id = _debian_major(files)
        return Distro(
            id=distro_id,
            version_id=version_id,
            pretty_name=fields.get("PRETTY_NAME", ""),
            codename=_codename(fields),
        )
    return None


def _from_redhat_family(files: dict[str, bytes]) -> Distro | None:
    for name in _REDHAT_FAMILY:
        if name not in files:
            continue
        text = files[name].decode(errors="replace").strip()
        m = _RH_RE.match(text)
        if m is None:
            continue
        lowered = m.group("name").lower()
        distro_id = next((v for k, v in _RH_IDS if lowered.startswith(k)), "rhel")
        return Distro(id=distro_id, version_id=m.group("version"), pretty_name=text)
    return None


def detect(files: dict[str, bytes]) -> Distro | None:
    """The distribution named by the first release file present among ``files``."""
    found = _from_os_release(files)
    if found is not None:
        return found
    if "etc/alpine-release" in files:
        version = files["etc/alpine-release"].decode(errors="replace").strip()
        return Distro(id="alpine", version_id=version, pretty_name=f"Alpine Linux v{version}")
    if "etc/debian_version" in files:
        version = files["etc/debian_version"].decode(errors="replace").strip()
        return Distro(
            id="debian", version_id=_debian_major(files) or version, pretty_name=f"Debian {version}"
        )
    found = _from_redhat_family(files)
    if found is not None:
        return found
    if any(name.startswith(_DISTROLESS_DPKG) for name in files):
        return Distro(id="debian", pretty_name="Debian (distroless, release unknown)")
    return None
