"""JDK/JRE installations: the release file at a runtime's root."""

from pathlib import Path

from services.engine.catalogers.java.parse_jvm_release import CATALOGER, jvm_to_package, parse_jvm_release

HERE = Path(__file__).parent
TEMURIN = "testdata/opt/java/openjdk/release"
ZULU = "testdata/usr/lib/jvm/zulu8/release"


def test_temurin_jdk() -> None:
    result = parse_jvm_release(TEMURIN, (HERE / TEMURIN).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version) == ("openjdk", "21.0.4+7-LTS")
    pkg = jvm_to_package(raw, None, "/" + TEMURIN)
    assert pkg.purl == (
        "pkg:generic/oracle/openjdk@21.0.4%2B7-LTS?repository_url=https://github.com/adoptium/jdk21u.git"
    )


def test_zulu_8_uses_the_full_version() -> None:
    [raw] = parse_jvm_release(ZULU, (HERE / ZULU).read_bytes()).packages
    assert (raw.name, raw.version, raw.metadata["vendor"]) == ("zulu", "1.8.0_422-b05", "azul")


def test_other_release_files_are_not_runtimes() -> None:
    os_release = b'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    assert CATALOGER.request.accept is not None
    assert not CATALOGER.request.accept("etc/lsb-release", os_release)
    assert parse_jvm_release("etc/release", os_release).packages == []
