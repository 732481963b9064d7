"""``/v1/environments`` on a real API over PostgreSQL: an admin adds a watched cluster (its kubeconfig
stored, never answered) or an agent cluster (answered with the same instructions ``assay environments
add --agent`` prints, whose ``helm install`` renders the chart's agent mode with Helm's Go SDK), lists
and removes them; each change is audited; the generated Kafka password is shown once and is in no
log, no audit row and no table; bad input is 400 naming the field."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from jsonschema import Draft202012Validator

from services.api.app import make_app
from services.api.auth.access import Access
from services.api.auth.tokens import Tokens
from services.api.environments import AgentDefaults, agent_defaults
from services.api.openapi import openapi_document
from services.api.scope import parse_scope
from services.api.settings import AuthConfig
from services.api.store import Reads
from services.oci.nodetoken import generate_keypair, public_key_of
from services.settings import load_settings
from tests.api.seed import Api
from tests.deploy.agent_install import helm_values, printed_secrets
from tests.deploy.manifests import objects, pod_specs

KUBECONFIG = (Path(__file__).parent / "testdata" / "kubeconfig-edge.yaml").read_text()
SA_TOKEN = "edge2-sa-token-signature"  # the kubeconfig's credential: stored, never answered or audited
BOOTSTRAP = "kafka-1.central.example:9093,kafka-2.central.example:9093"


async def _send(
    api: Api, method: str, path: str, role: str, body: object = None, url: str = ""
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    headers = {"Authorization": f"Bearer {api.tokens[role]}"}
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    async with api.http.request(method, (url or api.url) + path, headers=headers, data=data) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None, response.headers


async def _audit(api: Api) -> list[dict[str, Any]]:
    rows = await api.store.pool.fetch(
        "SELECT actor, action, target, outcome, detail FROM audit_log WHERE action LIKE 'environment.%' "
        "ORDER BY id"
    )
    return [dict(r) for r in rows]


def _created_schema() -> Draft202012Validator:
    document = openapi_document()
    post = document["paths"]["/v1/environments"]["post"]
    schema = post["responses"]["201"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


async def test_an_admin_adds_lists_and_removes_a_watched_cluster(api: Api) -> None:
    body = {"kind": "cluster", "name": "edge-2", "mode": "watch", "ou": "retail", "kubeconfig": KUBECONFIG}
    body["namespaces"] = ["shop", "payments-1"]
    status, created, _ = await _send(api, "POST", "/v1/environments", "admin", body)
    assert status == 201, created
    assert _created_schema().is_valid(created)
    assert created["environment"] == {
        "environment": "cluster:edge-2",
        "kind": "Cluster",
        "name": "edge-2",
        "ou": "retail",
        "last_seen": "",
        "images": 0,
        "added": True,
        "mode": "watch",
        "context": "",
        "namespaces": ["shop", "payments-1"],
    }
    assert created["instructions"] == []
    assert created["password"] == ""
    (stored,) = await api.store.pool.fetch("SELECT * FROM environments")
    assert stored["kubeconfig"] == KUBECONFIG  # what inventory watches it with
    status, again, _ = await _send(api, "POST", "/v1/environments", "admin", body)
    assert status == 409
    assert "cluster:edge-2 was already added" in again["error"]
    status, listed, _ = await _send(api, "GET", "/v1/environments", "viewer")
    assert status == 200
    by_name = {e["environment"]: e for e in listed["items"]}
    assert by_name["cluster:edge-2"]["mode"] == "watch"
    assert by_name["cluster:prod-eu"]["images"] == 1  # seen by inventory, not added: not removable here
    assert by_name["cluster:prod-eu"]["added"] is False
    assert SA_TOKEN not in json.dumps(listed)
    assert SA_TOKEN not in json.dumps(created)
    assert (await _send(api, "DELETE", "/v1/environments/cluster:edge-2", "admin"))[0] == 204
    status, gone, _ = await _send(api, "DELETE", "/v1/environments/cluster:edge-2", "admin")
    assert status == 404
    assert "no added environment cluster:edge-2" in gone["error"]
    assert await api.store.pool.fetchval("SELECT count(*) FROM environments") == 0
    audit = await _audit(api)
    assert [(a["action"], a["outcome"], a["target"]) for a in audit] == [
        ("environment.add", "ok", "environment=cluster:edge-2 mode=watch"),
        ("environment.add", "refused", "environment=cluster:edge-2 mode=watch"),
        ("environment.remove", "ok", "environment=cluster:edge-2"),
        ("environment.remove", "refused", "environment=cluster:edge-2"),
    ]
    assert {a["actor"] for a in audit} == {"token:test-admin"}
    assert SA_TOKEN not in json.dumps(audit)


async def test_an_agent_is_answered_with_the_cli_s_instructions_and_a_password_shown_once(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"kind": "cluster", "name": "edge-1", "mode": "agent", "ou": "retail", "bootstrap": BOOTSTRAP}
    status, created, headers = await _send(api, "POST", "/v1/environments", "admin", body)
    assert status == 201, created
    assert headers["Cache-Control"] == "no-store"
    assert _created_schema().is_valid(created)
    assert (created["environment"]["mode"], created["environment"]["added"]) == ("agent", True)
    password, lines = created["password"], created["instructions"]
    assert len(password) >= 32
    assert printed_secrets(lines, "assay")[("assay-kafka", "password")] == password
    values = helm_values(lines)
    assert values["mode"] == "agent"
    assert values["kafka"]["bootstrap"] == BOOTSTRAP
    assert values["inventory"]["watchCluster"] == {"name": "edge-1", "ou": "retail"}
    workloads = {(o["kind"], o["metadata"]["name"]) for o, _ in pod_specs(objects(values))}
    assert workloads == {("Deployment", "assay-inventory"), ("DaemonSet", "assay-node")}
    # shown once: in no log record, audit row or table
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert any(r.name == "aiohttp.access" for r in caplog.records)  # the capture saw the request
    assert password not in logged
    audit = await _audit(api)
    assert [(a["action"], a["outcome"], a["target"]) for a in audit] == [
        ("environment.add", "ok", "environment=cluster:edge-1 mode=agent")
    ]
    assert password not in json.dumps(audit)
    for table in ("environments", "audit_log"):
        dump = await api.store.pool.fetchval(f"SELECT coalesce(json_agg(t)::text, '') FROM {table} t")
        assert password not in dump, table
    # a second agent gets its own password
    status, other, _ = await _send(api, "POST", "/v1/environments", "admin", {**body, "name": "edge-9"})
    assert status == 201
    assert other["password"] != password


async def test_an_mtls_agent_gets_no_password_and_the_api_s_defaults(api: Api) -> None:
    private, public = generate_keypair()
    defaults = AgentDefaults(bootstrap="kafka.central.example:9093", node_public_key=public_key_of(private))
    app = make_app(Reads(api.store.pool), Access(AuthConfig(), api.store.pool), agent=defaults)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        body = {"kind": "cluster", "name": "edge-3", "mode": "agent", "auth": "mtls"}
        status, created, _ = await _send(api, "POST", "/v1/environments", "admin", body, url=url)
    finally:
        await server.close()
    assert status == 201, created
    assert created["password"] == ""
    lines = created["instructions"]
    assert any("client certificate assay-agent-edge-3.crt" in line for line in lines)
    values = helm_values(lines)
    assert values["kafka"]["bootstrap"] == "kafka.central.example:9093"
    assert values["node"]["publicKey"] == public
    assert values["kafka"]["tls"]["clientSecret"] == "assay-kafka-client"


def test_the_agent_defaults_come_from_the_api_s_settings() -> None:
    private, public = generate_keypair()
    registries = json.dumps([{"host": "*:5050", "node_key": private}])
    settings = load_settings({"ASSAY_KAFKA_BOOTSTRAP": "kafka:9092", "ASSAY_REGISTRIES": registries})
    assert agent_defaults(settings) == AgentDefaults(bootstrap="kafka:9092", node_public_key=public)
    assert agent_defaults(load_settings({})).node_public_key == ""


WATCH = {"kind": "cluster", "name": "edge-2", "mode": "watch", "kubeconfig": KUBECONFIG}
AGENT = {"kind": "cluster", "name": "edge-1", "mode": "agent"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "JSON is malformed"),
        ({"kind": "cluster", "name": "edge-2"}, "missing required field `mode`"),
        ({**WATCH, "kubeConfig": "x"}, "unknown field `kubeConfig`"),
        ({**WATCH, "kind": "registry"}, "$.kind"),
        ({**WATCH, "mode": "push"}, "$.mode"),
        ({**WATCH, "name": "edge 2; rm -rf /"}, "expected a name of letters, digits"),
        ({**WATCH, "ou": "retail eu"}, "ou 'retail eu': no spaces"),
        ({**WATCH, "kubeconfig": ""}, "kubeconfig: mode watch needs the kubeconfig's contents"),
        ({**WATCH, "context": "admin@prod"}, "kubeconfig: the kubeconfig has no context 'admin@prod'"),
        ({**WATCH, "kubeconfig": "users: [token: s3cr3t\n  bad: ]"}, "kubeconfig: not YAML (line"),
        ({**WATCH, "namespaces": ["Shop_1"]}, "namespaces: 'Shop_1' is not a namespace name"),
        ({**WATCH, "auth": "scram"}, "auth and bootstrap: only for mode agent"),
        ({**AGENT, "kubeconfig": KUBECONFIG}, "kubeconfig: only for mode watch"),
        ({**AGENT, "auth": "password"}, "$.auth"),
        ({**AGENT, "bootstrap": "kafka:9093 && curl evil"}, "bootstrap 'kafka:9093 && curl evil'"),
    ],
)
async def test_bad_input_is_400_naming_the_field_and_stores_nothing(
    api: Api, body: object, message: str
) -> None:
    status, problem, _ = await _send(api, "POST", "/v1/environments", "admin", body)
    assert status == 400, problem
    assert problem["error"].startswith("bad environment: ")
    assert message in problem["error"]
    assert "s3cr3t" not in problem["error"]  # PyYAML would quote the line; the answer gives its position
    assert await api.store.pool.fetchval("SELECT count(*) FROM environments") == 0
    (audited,) = await _audit(api)
    assert (audited["action"], audited["outcome"]) == ("environment.add", "refused")
    assert "s3cr3t" not in audited["detail"]
    assert SA_TOKEN not in audited["detail"]


@pytest.mark.parametrize(
    ("environment", "message"),
    [("registry:reg.example.com", "expected cluster:NAME"), ("cluster:a b", "expected a name")],
)
async def test_removing_a_bad_name_is_400(api: Api, environment: str, message: str) -> None:
    status, problem, _ = await _send(api, "DELETE", f"/v1/environments/{environment}", "admin")
    assert status == 400
    assert message in problem["error"]


@pytest.mark.parametrize("role", ["viewer", "operator"])
async def test_only_an_admin_changes_environments(api: Api, role: str) -> None:
    status, problem, _ = await _send(api, "POST", "/v1/environments", role, WATCH)
    assert status == 403
    assert f"has role {role}; this needs admin" in problem["error"]
    assert await api.store.pool.fetchval("SELECT count(*) FROM environments") == 0
    assert [(a["action"], a["outcome"]) for a in await _audit(api)] == [("environment.add", "refused")]


async def test_an_admin_token_limited_behind_the_api_s_back_is_refused(api: Api) -> None:
    """``assay tokens`` and the OIDC claim never limit an admin; a row edited to be one (an admin role
    with a scope) still changes no environment: 403, audited as refused with its scope."""
    token, _ = await Tokens(api.store.pool).create("edited", "viewer", scope=parse_scope(["cluster:dev"]))
    await api.store.pool.execute("UPDATE api_tokens SET role = 'admin' WHERE name = 'edited'")
    api.tokens["edited"] = token
    status, problem, _ = await _send(api, "POST", "/v1/environments", "edited", WATCH)
    assert status == 403
    assert "needs every environment, not cluster:dev" in problem["error"]
    assert (await _send(api, "DELETE", "/v1/environments/cluster:dev", "edited"))[0] == 403
    assert await api.store.pool.fetchval("SELECT count(*) FROM environments") == 0
    rows = await api.store.pool.fetch(
        "SELECT action, outcome, scope FROM audit_log WHERE actor = 'token:edited'"
    )
    assert [(r["action"], r["outcome"], list(r["scope"])) for r in rows] == [
        ("environment.add", "refused", ["cluster:dev"]),
        ("environment.remove", "refused", ["cluster:dev"]),
    ]
