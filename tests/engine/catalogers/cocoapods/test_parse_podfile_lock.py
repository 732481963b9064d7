"""Podfile.lock in the shape CocoaPods 1.11 writes (pods with subspecs and their dependencies)."""

from pathlib import Path

from services.engine.catalogers.cocoapods.parse_podfile_lock import parse_podfile_lock, pod_to_package

HERE = Path(__file__).parent
REL = "testdata/srv/iosapp/Podfile.lock"


def test_every_pod_and_subspec() -> None:
    result = parse_podfile_lock(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    purls = [pod_to_package(p, None, "/srv/iosapp/Podfile.lock").purl for p in result.packages]
    assert purls == [
        "pkg:cocoapods/Alamofire@5.4.3",
        "pkg:cocoapods/AppCenter@4.2.0",
        "pkg:cocoapods/AppCenter@4.2.0#Analytics",
        "pkg:cocoapods/AppCenter@4.2.0#Core",
        "pkg:cocoapods/AppCenter@4.2.0#Crashes",
        "pkg:cocoapods/KeychainAccess@4.2.1",
    ]
    assert all(p.declared for p in result.packages)


def test_bad_pods_and_files_are_problems() -> None:
    result = parse_podfile_lock("P/Podfile.lock", b"PODS:\n  - Good (1.0)\n  - Bad\n")
    assert [p.key() for p in result.packages] == [("Good", "1.0")]
    assert result.problems == ["P/Podfile.lock: pod 'Bad' is not 'Name (version)'"]
    assert parse_podfile_lock("P/Podfile.lock", b"COCOAPODS: 1.11.2\n").problems == [
        "P/Podfile.lock: no PODS list: not a Podfile.lock"
    ]
