"""The catalogers' XML entry point: DTDs refused, namespaces ignored, the root element checked."""

from services.engine.catalogers.safe_xml import local, parse_xml


def test_namespaced_root_and_local_names() -> None:
    root, problem = parse_xml(
        "p/pom.xml", b'<project xmlns="http://maven.apache.org/POM/4.0.0"><a/></project>', "project"
    )
    assert problem == ""
    assert root is not None
    assert [local(c.tag) for c in root] == ["a"]


def test_refusals_name_the_file() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><project>&a;</project>'
    assert parse_xml("p/pom.xml", bomb, "project") == (
        None,
        "p/pom.xml: DTDs are not allowed in project documents",
    )
    assert parse_xml("p/pom.xml", b"<project>", "project")[1].startswith("p/pom.xml: not well-formed XML")
    assert parse_xml("p/x.xml", b"<settings/>", "project") == (
        None,
        "p/x.xml: root element is <settings>, not <project>",
    )
