"""Live verification of found credentials, against a local FAKE of the providers' APIs.

``_FakeProviders`` is not GitHub or Slack: it is a loopback HTTP server that answers the way
their documented APIs answer (GitHub ``GET /user``: 200 with the user, 401 ``Bad credentials``;
Slack ``POST /api/auth.test``: 200 with ``ok`` true, or ``ok`` false and ``invalid_auth``). The
verifier is pointed at it through ``base_urls``; nothing leaves the machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.engine.analyze import analyze
from services.engine.content.redact import redact
from services.engine.content.secrets.analyzer import SecretsAnalyzer
from services.engine.content.secrets.ruleset import load_ruleset
from services.engine.content.secrets.verify import SecretVerifier
from tests.engine.memimage import Entry, Layer, MemoryImage

# fake, format-valid values
LIVE_GITHUB = "ghp_" + "Zq3xK8mP2vL9wR4tY7uB1nC6dF0gH5jS2aE8"
DEAD_GITHUB = "ghp_" + "Wd7Rk2Lp9Xv4Nc8Tz1Qm6Hs3Jb5Gf0Ya2Ue4"
FLAKY_GITHUB = "ghp_" + "Mb4Vn8Qc2Xz6Lk9Pj1Hg5Fd3Sa7Tw0Re2Yu6"
LIVE_SLACK = "xoxb-" + "4614724432022-5152386766518-Hq7Kd2Lm9Vx4Nc8Tz1Rp6Ws3"
DEAD_SLACK = "xoxb-" + "4614724432022-5152386766518-Pz3Xc7Vb1Nm5Lk9Jh2Gf6Ds4"


class _FakeProviders(BaseHTTPRequestHandler):
    """Answers like GitHub's REST API and Slack's Web API; records what it was asked."""

    seen: list[tuple[str, str, str]] = []

    def _reply(self, status: int, body: object) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # GitHub: GET /user
        auth = self.headers.get("Authorization", "")
        self.seen.append(("GET", self.path, auth))
        if self.path != "/user":
            self._reply(404, {"message": "Not Found"})
        elif auth == f"token {LIVE_GITHUB}":
            self._reply(200, {"login": "octocat", "id": 1, "type": "User"})
        elif auth == f"token {FLAKY_GITHUB}":
            self._reply(502, {"message": "Server Error"})
        else:
            body = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            self._reply(401, body)

    def do_POST(self) -> None:  # Slack: POST /api/auth.test
        auth = self.headers.get("Authorization", "")
        self.seen.append(("POST", self.path, auth))
        if auth == f"Bearer {LIVE_SLACK}":
            self._reply(
                200, {"ok": True, "team": "Fixture", "user": "bot", "team_id": "T123", "user_id": "U1"}
            )
        else:
            self._reply(200, {"ok": False, "error": "invalid_auth"})

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return


@pytest.fixture
def fake_api() -> Iterator[str]:
    _FakeProviders.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeProviders)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _verifier(base: str) -> SecretVerifier:
    return SecretVerifier(base_urls={"github": base, "slack": base}, timeout=5.0)


async def test_found_credentials_are_reported_verified_invalid_or_unknown_never_shown(fake_api: str) -> None:
    text = "\n".join(
        [f"A={LIVE_GITHUB}", f"B={DEAD_GITHUB}", f"C={FLAKY_GITHUB}", f"D={LIVE_SLACK}", f"E={DEAD_SLACK}"]
    )
    image = MemoryImage([Layer([Entry("srv/app/deploy.env", text.encode())])])
    analyzer = SecretsAnalyzer(load_ruleset(), verifier=_verifier(fake_api))
    result = await analyze(image, [], [analyzer])
    by_evidence = {d.evidence.split(": ", 1)[1]: d.verification for d in result.detections}
    assert by_evidence == {
        redact(LIVE_GITHUB): "verified",
        redact(DEAD_GITHUB): "invalid",
        redact(FLAKY_GITHUB): "unknown",
        redact(LIVE_SLACK): "verified",
        redact(DEAD_SLACK): "invalid",
    }
    for raw in (LIVE_GITHUB, DEAD_GITHUB, FLAKY_GITHUB, LIVE_SLACK, DEAD_SLACK):
        assert raw not in repr(result)
    assert ("GET", "/user", f"token {LIVE_GITHUB}") in _FakeProviders.seen
    assert ("POST", "/api/auth.test", f"Bearer {DEAD_SLACK}") in _FakeProviders.seen


async def test_env_credentials_are_verified_and_each_secret_is_asked_once(fake_api: str) -> None:
    image = MemoryImage([Layer([Entry("srv/a.txt", f"t={LIVE_GITHUB}\n".encode())])])
    image.config = {"config": {"Env": [f"GITHUB_TOKEN={LIVE_GITHUB}"]}}
    analyzer = SecretsAnalyzer(load_ruleset(), verifier=_verifier(fake_api))
    result = await analyze(image, [], [analyzer])
    assert sorted((d.path, d.verification) for d in result.detections) == [
        ("", "verified"),
        ("/srv/a.txt", "verified"),
    ]
    assert len(_FakeProviders.seen) == 1  # the second sighting came from the cache


async def test_verification_is_off_by_default_and_an_unreachable_provider_is_unknown() -> None:
    image = MemoryImage([Layer([Entry("srv/a.txt", f"t={LIVE_GITHUB}\n".encode())])])
    [plain] = (await analyze(image, [], [SecretsAnalyzer(load_ruleset())])).detections
    assert plain.verification == ""
    nowhere = SecretVerifier(base_urls={"github": "http://127.0.0.1:9"}, timeout=2.0)  # discard port: refused
    [offline] = (await analyze(image, [], [SecretsAnalyzer(load_ruleset(), verifier=nowhere)])).detections
    assert offline.verification == "unknown"
    assert SecretsAnalyzer(load_ruleset(), verifier=nowhere).fingerprint() != plain_fingerprint()


def plain_fingerprint() -> str:
    return SecretsAnalyzer(load_ruleset()).fingerprint()
