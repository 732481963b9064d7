"""Installed Java runtimes: the ``release`` file at the root of a JDK or JRE.

OpenJDK builds (Temurin, Corretto, Zulu, Microsoft, Oracle, distribution packages) write
``KEY="value"`` lines: ``IMPLEMENTOR``, ``JAVA_VERSION`` (``21.0.4``, or ``1.8.0_422`` before
JEP 223), ``JAVA_RUNTIME_VERSION`` (``21.0.4+7-LTS``), ``FULL_VERSION``, ``IMAGE_TYPE``
(``JDK``/``JRE``), ``SOURCE_REPO``. The version is the runtime version, else the full version
when its major matches, else the Java version; the package is named for its vendor and
product as syft names it (Azul's ``zulu``, Oracle's and Sun's ``jdk``/``jre``, otherwise
``openjdk``) with purl ``pkg:generic/<vendor>/<product>@<version>``. Any file named
``release`` is asked for (JDKs unpack anywhere); one without a Java version is not a runtime.
A runtime an OS package installed is that package (``shadowed_by_os``).
"""

from __future__ import annotations

from packageurl import PackageURL

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest


def _fields(data: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().isupper():
            fields[key.strip()] = value.strip().strip('"')
    return fields


def _version(f: dict[str, str]) -> str:
    if f.get("JAVA_RUNTIME_VERSION"):
        return f["JAVA_RUNTIME_VERSION"]
    full, java = f.get("FULL_VERSION", ""), f.get("JAVA_VERSION", "")
    if full and full.split(".")[0] == java.split(".")[0]:
        return full
    return java


def _vendor_product(implementor: str, path: str, image_type: str) -> tuple[str, str]:
    who = implementor.lower().replace(" ", "")
    edition = "jre" if "jre" in image_type.lower() else "jdk"
    if "azul" in who or "zulu" in path:
        return "azul", "zulu"
    if "sun" in who:
        return "sun", edition
    if "oracle" in who or "oracle" in path:
        return "oracle", edition
    return "oracle", "openjdk"


def parse_jvm_release(path: str, data: bytes) -> ParseResult:
    """The runtime a ``release`` file describes; a file without a Java version is not one."""
    f = _fields(data)
    version = _version(f)
    if not version:
        return ParseResult()
    vendor, product = _vendor_product(f.get("IMPLEMENTOR", ""), path, f.get("IMAGE_TYPE", ""))
    metadata = {
        "vendor": vendor,
        "implementor": f.get("IMPLEMENTOR", ""),
        "repository_url": f.get("SOURCE_REPO") or f.get("BUILD_SOURCE_REPO", ""),
        "image_type": f.get("IMAGE_TYPE", ""),
    }
    return ParseResult(
        packages=[
            RawPackage(name=product, version=version, metadata={k: v for k, v in metadata.items() if v})
        ]
    )


def jvm_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:generic/<vendor>/<product>@<version>?repository_url=...``, as syft writes it."""
    repo = raw.metadata.get("repository_url", "")
    purl = PackageURL(
        type="generic",
        namespace=raw.metadata.get("vendor") or None,
        name=raw.name,
        version=raw.version,
        qualifiers={"repository_url": repo} if repo else None,
    )
    return plain_record(raw, "generic", location, purl=str(purl))


CATALOGER = Cataloger(
    name="java-jvm-release",
    package_type="generic",
    request=FileRequest(
        name="java-jvm-release",
        patterns=("**/release",),
        max_bytes=512 * 1024,
        text_only=True,
        accept=lambda _path, data: b"JAVA_VERSION=" in data or b"JAVA_RUNTIME_VERSION=" in data,
    ),
    parse=parse_jvm_release,
    to_package=jvm_to_package,
    tags=("binary", "image", "directory"),
    shadowed_by_os=True,
)
