"""opam files: installed switch packages (name.version/opam) and project NAME.opam files."""

from pathlib import Path

from services.engine.catalogers.ocaml.parse_opam import opam_to_package, parse_opam

HERE = Path(__file__).parent
SWITCH = "testdata/root/.opam/default/.opam-switch/packages/ocaml-base-compiler.5.1.1/opam"
PROJECT = "testdata/src/app/lwt_probe.opam"


def test_switch_package_named_by_its_directory() -> None:
    result = parse_opam(SWITCH, (HERE / SWITCH).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version) == ("ocaml-base-compiler", "5.1.1")
    assert raw.licenses == ("LGPL-2.1-or-later WITH OCaml-LGPL-linking-exception",)
    assert opam_to_package(raw, None, "/" + SWITCH).purl == "pkg:opam/ocaml-base-compiler@5.1.1"


def test_project_file_named_by_its_file_with_a_license_list() -> None:
    [raw] = parse_opam(PROJECT, (HERE / PROJECT).read_bytes()).packages
    assert (raw.name, raw.version, raw.licenses) == ("lwt_probe", "0.4.2", ("ISC", "MIT"))
    assert raw.metadata == {"homepage": "https://example.org/lwt_probe"}


def test_not_an_opam_file_and_no_version() -> None:
    assert parse_opam("x/notes.opam", b"just text\n").packages == []
    unversioned = parse_opam("x/foo.opam", b'opam-version: "2.0"\nsynopsis: "x"\n')
    assert unversioned.problems == ["x/foo.opam: opam file without a package version"]
