"""Environments on the API: list, add, remove (what ``assay environments`` does, for an admin's client).

- ``GET /v1/environments`` (viewer): every environment known from sightings or added here or with
  ``assay environments add`` (the read model's ``Reads.environments``, within the caller's scope), and
  for an added one its mode, context and namespaces; never a kubeconfig;
- ``POST /v1/environments`` (admin): add a cluster, JSON ``{"kind": "cluster", "name", "ou", "mode":
  "watch"|"agent", "kubeconfig", "context", "namespaces"}`` for ``watch`` (central inventory watches it
  with that kubeconfig's contents) or ``{"mode": "agent", "auth": "scram"|"mtls", "bootstrap"}`` for a
  cluster that runs the chart's agent mode. 201 with the environment and, for an agent, the lines
  ``assay environments add --agent`` prints (``services/inventory/onboarding.py``: one source), the generated
  SCRAM password among them and in ``password``: shown once, stored and logged nowhere. 409 when the
  environment was already added (the CLI's ``add`` replaces instead: here a second add would silently
  overwrite a kubeconfig or orphan an agent's Kafka user, so remove it first); 400 names the bad field;
- ``DELETE /v1/environments/{environment}`` (admin): remove ``cluster:NAME`` (204; 404 when it was not
  added: configured clusters live in ``ASSAY_CLUSTERS``). An agent's Kafka user and ACL stay on the
  brokers until removed there.

Changes are audited by the auth middleware with the environment as target; only an unlimited admin
may make them (no admin is limited: ``roles.check_limit``; a limited caller would get 403 here too).
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any, Final, Literal

import msgspec
from aiohttp import web

from services.api.auth.middleware import AUDIT_TARGET, PRINCIPAL
from services.api.models import Problem, json_response, problem_response
from services.api.openapi_parts import json_body, path_param
from services.api.scope import OutOfScope
from services.api.scoped import reads_for
from services.api.store import Reads
from services.api.store.environments import EnvironmentRow
from services.common.errors import ConfigError
from services.common.store._errors import translated
from services.common.store.links import LinkError, cluster_name
from services.inventory.onboarding import AgentAuth, agent_instructions, check_kubeconfig, node_public_key
from services.inventory.store import Environment, Environments

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = [
    "AgentDefaults",
    "EnvironmentCreated",
    "EnvironmentList",
    "EnvironmentRequest",
    "EnvironmentView",
    "add_environment_routes",
    "agent_defaults",
    "environment_openapi",
]

_READS: Final = web.AppKey("environment_reads", Reads)
_NAMESPACE_RE: Final = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")  # a DNS-1123 label
_BROKER_RE: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}$")
_OU_RE: Final = re.compile(r"^\S{1,253}$")  # scopes name it as ou:NAME
_INSERT: Final = """
INSERT INTO environments (kind, name, mode, kubeconfig, context, ou, namespaces)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, name) DO NOTHING
"""


class AgentDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """What an agent's instructions take from the API's settings unless the request says otherwise."""

    bootstrap: str = ""  # the central Kafka (ASSAY_KAFKA_BOOTSTRAP); a request's "bootstrap" wins
    node_public_key: str = ""  # the public half of the engines' node_key ("": a placeholder to fill)


_AGENT: Final = web.AppKey("agent_defaults", AgentDefaults)


class EnvironmentRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An environment to add (``POST /v1/environments``)."""

    kind: Literal["cluster"]
    name: str  # the environment is cluster:NAME
    mode: Literal["watch", "agent"]
    ou: str = ""  # the organisational unit owning its workloads
    kubeconfig: str = ""  # watch: the kubeconfig's contents (stored: grant the database accordingly)
    context: str = ""  # watch: a context of that kubeconfig ("": its current-context)
    namespaces: list[str] = []  # watch: only these namespaces (none: all)
    auth: AgentAuth | None = None  # agent: a SCRAM-SHA-512 Kafka user (default) or a client certificate
    bootstrap: str = ""  # agent: the Kafka the agent reaches ("": the API's ASSAY_KAFKA_BOOTSTRAP)


class EnvironmentView(EnvironmentRow, frozen=True, kw_only=True):
    """An environment as the console lists it (kind, name, OU, last report, images) and how it was added."""

    added: bool = False  # added with this API or `assay environments add` (removable here)
    mode: str = ""  # an added cluster: watch (central inventory watches it) or agent (its own publishes)
    context: str = ""
    namespaces: list[str] = []


class EnvironmentList(msgspec.Struct, frozen=True, kw_only=True):
    """Every environment the caller may see, by name."""

    items: list[EnvironmentView]


class EnvironmentCreated(msgspec.Struct, frozen=True, kw_only=True):
    """The added environment; for an agent, what to run (central Kafka, then its cluster)."""

    environment: EnvironmentView
    instructions: list[str] = []  # an agent: the Kafka user and ACL, its Secrets, the `helm install`
    password: str = ""  # a SCRAM agent: its Kafka password, also in the lines; shown once, kept nowhere


def agent_defaults(settings: Settings) -> AgentDefaults:
    """The agent defaults of ``settings``: its Kafka and, when it holds the engines' ``node_key``, its
    public half (what ``assay environments add --agent`` prints on the same machine)."""
    return AgentDefaults(
        bootstrap=settings.kafka.bootstrap, node_public_key=node_public_key(settings.registries)
    )


def _check_kubeconfig(text: str, context: str) -> None:
    """``ValueError`` unless ``text`` is a kubeconfig with ``context`` (inventory's check)."""
    try:
        check_kubeconfig(text, context)
    except ConfigError as exc:
        raise ValueError(f"kubeconfig: {exc}") from None


def _check_fields(wanted: EnvironmentRequest) -> None:
    """``ValueError`` naming the first field that is wrong for ``wanted.mode``."""
    if wanted.ou and not _OU_RE.match(wanted.ou):
        raise ValueError(f"ou {wanted.ou!r}: no spaces, at most 253 characters")
    if wanted.mode == "agent":
        for field in ("kubeconfig", "context", "namespaces"):
            if getattr(wanted, field):
                raise ValueError(f"{field}: only for mode watch (an agent watches its own cluster)")
        for broker in filter(None, wanted.bootstrap.split(",")):
            if not _BROKER_RE.match(broker):
                raise ValueError(f"bootstrap {broker!r}: expected host:port[,host:port...]")
        return
    if wanted.auth is not None or wanted.bootstrap:
        raise ValueError("auth and bootstrap: only for mode agent")
    if not wanted.kubeconfig:
        raise ValueError("kubeconfig: mode watch needs the kubeconfig's contents")
    for namespace in wanted.namespaces:
        if not _NAMESPACE_RE.match(namespace):
            raise ValueError(f"namespaces: {namespace!r} is not a namespace name")
    _check_kubeconfig(wanted.kubeconfig, wanted.context)


def _parse(body: bytes) -> EnvironmentRequest:
    """The request body as an environment to add; ``ValueError`` naming what is wrong."""
    try:
        wanted = msgspec.json.decode(body, type=EnvironmentRequest)
        name = cluster_name(wanted.name)
    except (msgspec.DecodeError, LinkError) as exc:  # msgspec names the field ($.mode), not a string's text
        raise ValueError(str(exc)) from None
    _check_fields(wanted)
    return msgspec.structs.replace(wanted, name=name)


def _only_unlimited(request: web.Request) -> None:
    scope = request[PRINCIPAL].scope
    if scope.limited:  # roles.check_limit keeps admins unlimited; this holds if that ever changes
        raise OutOfScope(f"adding or removing environments needs every environment, not {scope.describe()}")


async def _views(reads: Reads, only: str = "") -> list[EnvironmentView]:
    """The environments ``reads`` covers (just ``only`` when given), with how each was added."""
    added = {e.environment: e for e in await Environments(reads.pool).all()}
    out = []
    for row in await reads.environments():
        if only and row.environment != only:
            continue
        fields = msgspec.structs.asdict(row)
        env = added.get(row.environment)
        if env is not None:
            how = {"mode": env.mode, "context": env.context, "namespaces": list(env.namespaces)}
            fields.update(added=True, **how)
        out.append(EnvironmentView(**fields))
    return out


async def _list(request: web.Request) -> web.Response:
    return json_response(EnvironmentList(items=await _views(reads_for(request, _READS))))


async def _add(request: web.Request) -> web.Response:
    _only_unlimited(request)
    try:
        wanted = _parse(await request.read())
    except ValueError as exc:
        return problem_response(400, f"bad environment: {exc}")
    env = Environment(
        kind=wanted.kind,
        name=wanted.name,
        mode=wanted.mode,
        kubeconfig=wanted.kubeconfig,
        context=wanted.context,
        ou=wanted.ou,
        namespaces=wanted.namespaces,
    )
    request[AUDIT_TARGET] = f"environment={env.environment} mode={env.mode}"
    reads = request.app[_READS]
    with translated(f"add environment {env.environment}"):
        inserted = await reads.pool.execute(_INSERT, *_columns(env))
    if str(inserted).endswith(" 0"):
        path = f"/v1/environments/{env.environment}"
        return problem_response(
            409, f"{env.environment} was already added: DELETE {path} first to add it again"
        )
    (view,) = await _views(reads, env.environment)
    if env.mode == "watch":
        return json_response(EnvironmentCreated(environment=view), 201)
    defaults, auth = request.app[_AGENT], wanted.auth or "scram"
    password = secrets.token_urlsafe(24) if auth == "scram" else ""
    bootstrap = wanted.bootstrap or defaults.bootstrap
    lines = agent_instructions(env, bootstrap, password, auth, defaults.node_public_key)
    created = EnvironmentCreated(environment=view, instructions=lines, password=password)
    return json_response(created, 201, **{"Cache-Control": "no-store"})  # it holds the password


def _columns(env: Environment) -> tuple[Any, ...]:
    return (env.kind, env.name, env.mode, env.kubeconfig, env.context, env.ou, list(env.namespaces))


async def _remove(request: web.Request) -> web.Response:
    _only_unlimited(request)
    environment = request.match_info["environment"]
    kind, _, name = environment.partition(":")
    try:
        if kind != "cluster":
            raise LinkError(f"environment {environment!r}: expected cluster:NAME")
        name = cluster_name(name)
    except LinkError as exc:
        return problem_response(400, str(exc))
    if not await Environments(request.app[_READS].pool).remove(kind, name):
        message = f"no added environment {kind}:{name} (configured clusters are set in ASSAY_CLUSTERS)"
        return problem_response(404, message)
    return web.Response(status=204)


def add_environment_routes(app: web.Application, reads: Reads, agent: AgentDefaults) -> None:
    """Add the environment routes, over the store's pool behind ``reads``; ``agent``: the defaults of
    an agent's instructions (``agent_defaults(settings)``)."""
    app[_READS] = reads
    app[_AGENT] = agent
    app.router.add_get("/v1/environments", _list, allow_head=False)
    app.router.add_post("/v1/environments", _add)
    app.router.add_delete("/v1/environments/{environment}", _remove)


def environment_openapi(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI paths of these routes and the schemas they reference (``ref_template``)."""
    (page, request, created, problem), components = msgspec.json.schema_components(
        [EnvironmentList, EnvironmentRequest, EnvironmentCreated, Problem], ref_template=ref_template
    )
    down = json_body(problem, "PostgreSQL cannot be reached")
    bad = json_body(problem, "a field is missing, unknown or invalid; the message names it")
    paths = {
        "/v1/environments": {
            "get": {
                "operationId": "listEnvironments",
                "summary": "Environments seen by inventory or added, with their OU, last report and images",
                "responses": {"200": json_body(page, "every environment, by name"), "503": down},
            },
            "post": {
                "operationId": "addEnvironment",
                "summary": "Add a cluster: watched with a kubeconfig, or an agent (answers what to run)",
                "requestBody": {**json_body(request, "the environment"), "required": True},
                "responses": {
                    "201": json_body(created, "added; an agent's instructions and password, shown once"),
                    "400": bad,
                    "409": json_body(problem, "already added: remove it first"),
                    "503": down,
                },
            },
        },
        "/v1/environments/{environment}": {
            "delete": {
                "operationId": "removeEnvironment",
                "summary": "Remove an added cluster (inventory stops watching it)",
                "parameters": [path_param("environment", "cluster:NAME")],
                "responses": {
                    "204": {"description": "removed"},
                    "400": json_body(problem, "not cluster:NAME"),
                    "404": json_body(problem, "no such added environment"),
                    "503": down,
                },
            }
        },
    }
    return paths, components
