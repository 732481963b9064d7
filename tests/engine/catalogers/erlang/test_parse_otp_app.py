"""OTP application resource files: ebin/<app>.app."""

from pathlib import Path

from services.engine.catalogers.erlang.parse_otp_app import CATALOGER, otp_to_package, parse_otp_app

HERE = Path(__file__).parent
REL = "testdata/usr/lib/erlang/lib/crypto-5.4.2/ebin/crypto.app"


def test_application_and_vsn() -> None:
    data = (HERE / REL).read_bytes()
    assert CATALOGER.request.accept is not None
    assert CATALOGER.request.accept(REL, data)
    result = parse_otp_app(REL, data)
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version) == ("crypto", "5.4.2")
    assert otp_to_package(raw, None, "/" + REL).purl == "pkg:otp/crypto@5.4.2"


def test_quoted_names_other_files_and_a_missing_vsn() -> None:
    [raw] = parse_otp_app("e/x.app", b"{application,'my_app',[{vsn,\"1.0.0-rc.1\"}]}.").packages
    assert (raw.name, raw.version) == ("my_app", "1.0.0-rc.1")
    assert parse_otp_app("Foo.app", b"#!/bin/sh\nexec foo\n").packages == []
    assert parse_otp_app("e/y.app", b"{application, y, [{modules, []}]}.").problems == [
        "e/y.app: application y without a vsn"
    ]
