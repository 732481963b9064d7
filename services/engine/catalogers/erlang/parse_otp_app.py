"""Erlang/OTP applications: the application resource file ``ebin/<app>.app``.

An Erlang term ``{application, kernel, [{description, "..."}, {vsn, "9.2"}, ...]}.``
(the name may be quoted: ``'my-app'``). Every OTP release and rebar3/mix build installs
one per application. The purl is ``pkg:otp/<name>@<vsn>``, as syft writes it.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_APP = re.compile(r"\{\s*application\s*,\s*(?:'(?P<q>[^']+)'|(?P<b>[a-z][\w@]*))\s*,\s*\[")
_ACCEPT = re.compile(rb"\{\s*application\s*,")
_VSN = re.compile(r"\{\s*vsn\s*,\s*\"(?P<vsn>[^\"]*)\"\s*\}")


def parse_otp_app(path: str, data: bytes) -> ParseResult:
    """The application a ``.app`` file defines; one without ``vsn`` is a problem."""
    text = re.sub(r"(?m)%.*$", "", data.decode("utf-8", "replace"))
    app = _APP.search(text)
    if app is None:
        return ParseResult()  # another file named *.app (a macOS bundle, a script)
    vsn = _VSN.search(text, app.end())
    name = app["q"] or app["b"]
    if vsn is None or not vsn["vsn"]:
        return ParseResult(problems=[f"{path}: application {name} without a vsn"])
    return ParseResult(packages=[RawPackage(name=name, version=vsn["vsn"])])


def otp_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "otp", location)


CATALOGER = Cataloger(
    name="erlang-otp-app",
    package_type="otp",
    request=FileRequest(
        name="erlang-otp-app",
        patterns=("**/*.app",),
        max_bytes=1 << 20,
        text_only=True,
        accept=lambda _path, data: _ACCEPT.search(data) is not None,
    ),
    parse=parse_otp_app,
    to_package=otp_to_package,
    tags=("language", "image", "directory"),
)
