"""NuGet ``packages.lock.json`` (``RestorePackagesWithLockFile``). No .NET SDK here: the fixture
follows the documented lock file layout (version 1, per-framework and per-RID graphs with
Direct/Transitive/Project entries, ``requested``/``resolved``/``contentHash``)."""

from pathlib import Path

from services.engine.catalogers.dotnet.parse_packages_lock import parse_packages_lock

HERE = Path(__file__).parent


def test_resolved_packages_once_each_without_projects() -> None:
    rel = "testdata/src/Web/packages.lock.json"
    result = parse_packages_lock(rel, (HERE / rel).read_bytes())
    assert result.problems == []
    assert sorted((p.name, p.version) for p in result.packages) == [
        ("Newtonsoft.Json", "12.0.1"),
        ("Serilog", "2.10.0"),
        ("System.Text.Encodings.Web", "4.5.0"),
        ("runtime.linux-x64.Microsoft.NETCore.ILAsm", "6.0.0"),
    ]
    nj = next(p for p in result.packages if p.name == "Newtonsoft.Json")
    assert nj.declared
    assert nj.metadata == {"framework": "net6.0", "type": "Direct"}


def test_missing_resolved_version_and_bad_json_are_problems() -> None:
    data = (
        b'{"version": 1, "dependencies": {"net6.0": '
        b'{"A": {"type": "Direct"}, "B": {"type": "Transitive", "resolved": "1.0.0"}}}}'
    )
    result = parse_packages_lock("p/packages.lock.json", data)
    assert [(p.name, p.version) for p in result.packages] == [("B", "1.0.0")]
    assert result.problems == ["p/packages.lock.json: net6.0: A has no resolved version"]
    assert (
        parse_packages_lock("q/packages.lock.json", b'{"version": 1,')
        .problems[0]
        .startswith("q/packages.lock.json: not valid JSON:")
    )
