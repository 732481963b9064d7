"""conanfile.txt and conaninfo.txt: the references their requirement sections pin."""

from pathlib import Path

from services.engine.catalogers.cpp.parse_conan_lock import conan_to_package
from services.engine.catalogers.cpp.parse_conanfile import parse_conanfile

HERE = Path(__file__).parent
CONANFILE = "testdata/src/imgtool/conanfile.txt"
CONANINFO = "testdata/root/.conan2/p/b/fmtd5d3a9c2e1f0b/p/conaninfo.txt"


def test_consumer_requirements_and_tools() -> None:
    result = parse_conanfile(CONANFILE, (HERE / CONANFILE).read_bytes())
    assert result.problems == []
    got = [(p.name, p.version, p.metadata.get("dev", "")) for p in result.packages]
    assert got == [
        ("zlib", "1.3.1", ""),
        ("libpng", "1.6.43", ""),
        ("fmt", "10.2.1", ""),
        ("cmake", "3.28.1", "true"),
    ]
    assert result.packages[2].metadata["user"] == "acme"  # openssl's range names no version
    assert conan_to_package(result.packages[0], None, "/" + CONANFILE).purl == "pkg:conan/zlib@1.3.1"


def test_cached_package_info() -> None:
    result = parse_conanfile(CONANINFO, (HERE / CONANINFO).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [("spdlog", "1.13.0"), ("zlib", "1.3.1")]


def test_a_bad_reference_is_a_problem() -> None:
    result = parse_conanfile("conanfile.txt", b"[requires]\nnot a reference\n")
    assert result.problems == ["conanfile.txt: reference 'not a reference' is not name/version"]
