"""The Helm chart, rendered and linted with Helm's Go SDK (helm-python-sdk), every object validated.

Built-in kinds are validated by kubernetes-validate against the Kubernetes OpenAPI schemas (strict:
unknown fields fail); KafkaTopic, ScaledObject and TriggerAuthentication against ``crd_schemas``.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from deploy.render import REGENERATE, _differences, lint, rendered_files
from schemas.topics import ALL_TOPICS, Topics
from tests.deploy.crd_schemas import CRD_SCHEMAS
from tests.deploy.manifests import (
    AGENT,
    CUSTOM,
    NODE_PUBLIC_KEY,
    by_name,
    containers,
    objects,
    of_kind,
    pod_specs,
)

KUBE_VERSION = "1.30.0"
COMPONENTS = ("inventory", "dedupe", "engine", "policy", "api", "updater")


@pytest.fixture(scope="module")
def default() -> list[dict[str, Any]]:
    return objects()


@pytest.fixture(scope="module")
def custom() -> list[dict[str, Any]]:
    return objects(CUSTOM)


@pytest.mark.parametrize("values", [None, CUSTOM, AGENT], ids=["default", "custom", "agent"])
def test_chart_lints_clean(values: dict[str, Any] | None) -> None:
    report = lint(values)
    assert report["errors"] == []
    assert report["messages"] == []  # strict: not even an info


@pytest.mark.parametrize("values", [None, CUSTOM], ids=["default", "custom"])
def test_every_object_validates(values: dict[str, Any] | None) -> None:
    objs = objects(values)
    assert len(objs) > 20
    for obj in objs:
        key = (obj["apiVersion"], obj["kind"])
        where = f"{obj['kind']} {obj['metadata'].get('name')}"
        if key in CRD_SCHEMAS:
            jsonschema.Draft202012Validator(CRD_SCHEMAS[key]).validate(obj)
        else:
            try:
                kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:  # pragma: no cover - the failure message
                raise AssertionError(f"{where}: {exc.message} at {list(exc.path)}") from exc


def test_validation_catches_a_misspelt_field(default: list[dict[str, Any]]) -> None:
    """The validators above are not vacuous: a typo in a Deployment or a KafkaTopic fails."""
    deployment = of_kind(default, "Deployment")[0]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBE_VERSION, strict=True)
    topic = of_kind(default, "KafkaTopic")[0]
    bad_topic = {**topic, "spec": {**topic["spec"], "partitions": 0}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_topic, CRD_SCHEMAS[("kafka.strimzi.io/v1beta2", "KafkaTopic")])


def test_k8s_matches_the_default_render() -> None:
    problems = _differences(rendered_files())
    assert problems == [], f"k8s/ is out of date, run `{REGENERATE}`: {problems}"


def test_default_install_has_every_piece(default: list[dict[str, Any]]) -> None:
    kinds = {o["kind"] for o in default}
    assert {
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "Service",
    } <= kinds
    assert {"KafkaTopic", "ScaledObject", "NetworkPolicy"} <= kinds
    assert {o["metadata"]["name"] for o in of_kind(default, "Deployment")} == {
        f"assay-{c}" for c in COMPONENTS
    }
    assert of_kind(default, "DaemonSet") == []  # the node daemon is opt-in
    for name in COMPONENTS:
        deployment = by_name(default, "Deployment", f"assay-{name}")
        (main,) = deployment["spec"]["template"]["spec"]["containers"]
        assert main["args"] == ["service", name]


def test_rbac_grants_only_pods_list_watch_and_secrets_get_by_default(default: list[dict[str, Any]]) -> None:
    roles = {
        r["metadata"]["name"]: r["rules"] for r in of_kind(default, "ClusterRole") + of_kind(default, "Role")
    }
    assert roles == {
        "assay-inventory": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]}],
        # the engines read the secrets the pods name, by name: no list, no watch
        "assay-engine": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
    }
    bindings = of_kind(default, "ClusterRoleBinding") + of_kind(default, "RoleBinding")
    assert {b["roleRef"]["name"]: b["subjects"] for b in bindings} == {
        name: [{"kind": "ServiceAccount", "name": name, "namespace": "assay"}] for name in roles
    }
    tokens = {
        sa["metadata"]["name"]: sa["automountServiceAccountToken"]
        for sa in of_kind(default, "ServiceAccount")
    }
    assert tokens == {f"assay-{c}": c in ("inventory", "engine") for c in COMPONENTS}
    for component in ("inventory", "engine"):  # both know the watched cluster (ASSAY_CLUSTERS)
        deployment = by_name(default, "Deployment", f"assay-{component}")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert '"owner_lookups":false' in env["ASSAY_CLUSTERS"]


def test_owner_lookups_and_namespaces_widen_rbac_exactly(custom: list[dict[str, Any]]) -> None:
    assert of_kind(custom, "ClusterRole") == []
    roles = of_kind(custom, "Role")
    inventory = [r for r in roles if r["metadata"]["name"] == "assay-inventory"]
    engine = [r for r in roles if r["metadata"]["name"] == "assay-engine"]
    assert len(inventory) + len(engine) == len(roles)
    assert sorted(r["metadata"]["namespace"] for r in inventory) == ["ops", "shop"]
    assert sorted(r["metadata"]["namespace"] for r in engine) == ["ops", "shop"]
    for role in inventory:
        assert role["rules"] == [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get"]},
            {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get"]},
        ]
    for role in engine:
        assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    namespaces = sorted(b["metadata"]["namespace"] for b in of_kind(custom, "RoleBinding"))
    assert namespaces == ["ops", "ops", "shop", "shop"]


@pytest.mark.parametrize("values", [None, CUSTOM], ids=["default", "custom"])
def test_every_container_has_requests_limits_and_a_locked_down_context(values: dict[str, Any] | None) -> None:
    objs = objects(values)
    restricted = {
        o["metadata"]["name"]
        for o in of_kind(objs, "Namespace")
        if o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    }
    assert restricted == {"assay"}
    seen = 0
    for workload, spec in pod_specs(objs):
        is_node = workload["metadata"]["name"] == "assay-node"
        pod_ctx = spec["securityContext"]
        assert pod_ctx["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod_ctx["runAsNonRoot"] is (not is_node)
        assert (workload["metadata"]["namespace"] in restricted) is (not is_node)
        mounts_by_volume = {v["name"]: v for v in spec["volumes"]}
        for c in containers(spec):
            seen += 1
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) == {"cpu", "memory"}, (c["name"], kind)
            ctx = c["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["readOnlyRootFilesystem"] is True
            assert ctx["capabilities"] == {"drop": ["ALL"]}
            assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
            assert ctx.get("runAsNonRoot", pod_ctx["runAsNonRoot"]) is (not is_node)
            writable = {m["mountPath"]: m for m in c["volumeMounts"] if not m.get("readOnly")}
            shared = (
                {"/var/lib/assay-objects"}
                if c["name"] not in ("api", "advisory-db") and not values
                else set()
            )
            assert set(writable) == {"/var/lib/assay", "/tmp"} | shared, c["name"]
            for m in writable.values():
                volume = mounts_by_volume[m["name"]]
                assert "emptyDir" in volume or m["mountPath"] in shared
    assert seen >= 6


def test_a_node_daemon_with_no_way_to_check_engines_fails_the_render() -> None:
    """Without node.publicKey or node.tokenSecret the daemon would refuse to start (crash-looping)."""
    with pytest.raises(Exception, match=r"node.enabled needs node.publicKey .* or node.tokenSecret"):
        objects({"node": {"enabled": True}})
    legacy = objects({"node": {"enabled": True, "tokenSecret": "node-token"}})
    (ds,) = of_kind(legacy, "DaemonSet")
    (c,) = ds["spec"]["template"]["spec"]["containers"]
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in c["env"]
        if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]
    }
    assert refs["ASSAY_NODE_TOKEN"] == {"name": "node-token", "key": "token"}


def test_node_daemon_is_an_honest_exception(custom: list[dict[str, Any]]) -> None:
    (ds,) = of_kind(custom, "DaemonSet")
    ns = by_name(custom, "Namespace", ds["metadata"]["namespace"])
    assert ns["metadata"]["name"] != "assay"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    spec = ds["spec"]["template"]["spec"]
    (socket,) = [v for v in spec["volumes"] if "hostPath" in v]
    assert socket["hostPath"] == {"path": "/run/containerd/containerd.sock", "type": "Socket"}
    (c,) = spec["containers"]
    assert c["args"] == ["service", "node"]
    (mount,) = [m for m in c["volumeMounts"] if m["name"] == socket["name"]]
    assert mount["readOnly"] is True
    assert c["securityContext"]["privileged"] is False
    assert spec["automountServiceAccountToken"] is False
    assert not any(e["name"] == "ASSAY_PG_DSN" for e in c["env"])  # its namespace holds no DB secret
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["ASSAY_NODE_ADVERTISE"] == "$(POD_IP):5050"
    assert env["ASSAY_NODE_PUBLIC_KEY"] == NODE_PUBLIC_KEY  # it accepts only tokens the engines signed
    assert c["ports"] == [{"name": "http", "containerPort": 5050, "protocol": "TCP"}]
    # engines may reach that port; nothing else in the pipeline namespace gains anything
    assert 5050 in _ports(_allowed(custom, "engine", "egress"))
    assert 5050 not in _ports(_allowed(custom, "policy", "egress"))


def test_topics_are_every_topic_of_the_schemas(
    default: list[dict[str, Any]], custom: list[dict[str, Any]]
) -> None:
    topics = of_kind(default, "KafkaTopic")
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(ALL_TOPICS)
    assert {(t["spec"]["partitions"], t["spec"]["replicas"]) for t in topics} == {(12, 3)}
    assert {t["metadata"]["labels"]["strimzi.io/cluster"] for t in topics} == {"assay-kafka"}
    custom_topics = of_kind(custom, "KafkaTopic")
    assert {(t["spec"]["partitions"], t["spec"]["replicas"]) for t in custom_topics} == {(24, 2)}
    assert {t["spec"]["config"]["min.insync.replicas"] for t in custom_topics} == {1}
    dlq = [t for t in topics if t["spec"]["topicName"] == Topics.DLQ]
    assert dlq[0]["spec"]["config"]["retention.ms"] > topics[0]["spec"]["config"]["retention.ms"]


def test_engine_scales_on_scan_request_lag(
    default: list[dict[str, Any]], custom: list[dict[str, Any]]
) -> None:
    (so,) = of_kind(default, "ScaledObject")
    assert so["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "assay-engine",
    }
    (trigger,) = so["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    # the group `assay service engine` joins: f"{prefix}-engine-{site}" (services/engine/main.py)
    assert trigger["metadata"]["consumerGroup"] == "assay-engine-in-cluster"
    unwatched = objects({"inventory": {"watchCluster": {"enabled": False}}})
    (so,) = of_kind(unwatched, "ScaledObject")
    assert so["spec"]["triggers"][0]["metadata"]["consumerGroup"] == "assay-engine"
    assert trigger["metadata"]["topic"] == Topics.SCAN_REQUESTS
    assert "replicas" not in by_name(default, "Deployment", "assay-engine")["spec"]  # KEDA owns it
    assert of_kind(custom, "ScaledObject") == []
    assert by_name(custom, "Deployment", "assay-engine")["spec"]["replicas"] == 3


def test_kafka_credentials_come_from_the_secret(custom: list[dict[str, Any]]) -> None:
    (auth,) = of_kind(
        objects({**CUSTOM, "engine": {"autoscaling": {"enabled": True}}}), "TriggerAuthentication"
    )
    assert {r["name"] for r in auth["spec"]["secretTargetRef"]} == {"kafka-creds"}
    policy = by_name(custom, "Deployment", "assay-policy")["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in policy["env"] if "valueFrom" in e}
    assert refs["ASSAY_PG_DSN"] == {"name": "pg", "key": "dsn"}
    assert {r["name"] for n, r in refs.items() if n.startswith("ASSAY_KAFKA_")} == {"kafka-creds"}


def _engine_env(objs: list[dict[str, Any]]) -> dict[str, Any]:
    engine = by_name(objs, "Deployment", "assay-engine")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in engine["env"]}


def test_image_size_cap_maps_to_the_setting(
    default: list[dict[str, Any]], custom: list[dict[str, Any]]
) -> None:
    assert _engine_env(default)["ASSAY_MAX_IMAGE_SIZE_MB"] == "2048"
    assert _engine_env(custom)["ASSAY_MAX_IMAGE_SIZE_MB"] == "4096"
    dedupe = by_name(custom, "Deployment", "assay-dedupe")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "ASSAY_MAX_IMAGE_SIZE_MB", "value": "4096"} in dedupe["env"]


def test_engine_memory_follows_the_scan_not_the_image_size(default: list[dict[str, Any]]) -> None:
    big = objects({"imageScan": {"maxImageSizeMb": 16384}})
    engine = by_name(default, "Deployment", "assay-engine")["spec"]["template"]["spec"]["containers"][0]
    big_engine = by_name(big, "Deployment", "assay-engine")["spec"]["template"]["spec"]["containers"][0]
    assert big_engine["resources"] == engine["resources"]
    # two concurrent scans at the measured ~182 MB peak each fit in the request
    request_mib = int(engine["resources"]["requests"]["memory"].removesuffix("Mi"))
    assert request_mib * 2**20 >= int(_engine_env(default)["ASSAY_ENGINE_CONCURRENCY"]) * 182 * 10**6


def _allowed(objs: list[dict[str, Any]], component: str, direction: str) -> list[dict[str, Any]]:
    """The ingress or egress rules of every NetworkPolicy in ``assay`` that selects ``component``."""
    rules: list[dict[str, Any]] = []
    for np in of_kind(objs, "NetworkPolicy"):
        if np["metadata"]["namespace"] != "assay":
            continue
        sel = np["spec"]["podSelector"]
        exprs = sel.get("matchExpressions", [])
        if not exprs or component in exprs[0]["values"]:
            rules += np["spec"].get(direction, [])
    return rules


def _ports(rules: list[dict[str, Any]]) -> set[int]:
    return {p["port"] for r in rules for p in r.get("ports", [])}


def test_network_policies_deny_by_default_and_allow_each_service_its_needs(
    default: list[dict[str, Any]],
) -> None:
    deny = by_name(default, "NetworkPolicy", "assay-default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    egress = {c: _ports(_allowed(default, c, "egress")) for c in COMPONENTS}
    assert egress["api"] == {53, 5432, 9092}  # the store, and Kafka for the rescans it publishes
    assert egress["dedupe"] == {53, 9092, 5432}
    assert egress["policy"] == {53, 9092, 5432}
    # Kafka, registries, advisories, image statuses, and the Kubernetes API for the pods' pull secrets
    assert egress["engine"] == {53, 9092, 443, 5432, 6443}
    assert egress["inventory"] == {53, 9092, 443, 6443}  # Kafka, registries, the Kubernetes API
    ingress = {c: _allowed(default, c, "ingress") for c in COMPONENTS}
    assert {c for c, rules in ingress.items() if rules} == {"api"}
    assert _ports(ingress["api"]) == {8080}


def test_engines_mark_scanning_and_serve_the_watched_cluster(
    default: list[dict[str, Any]], custom: list[dict[str, Any]]
) -> None:
    """Issue 14 defects 1 and 3: the in-cluster site is set, and the engine has the store's DSN."""
    engine = by_name(default, "Deployment", "assay-engine")["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in engine["env"] if "valueFrom" in e}
    assert refs["ASSAY_PG_DSN"] == {"name": "assay-postgres", "key": "dsn"}
    inventory = by_name(default, "Deployment", "assay-inventory")["spec"]["template"]["spec"]["containers"][0]
    (clusters,) = [json.loads(e["value"]) for e in inventory["env"] if e["name"] == "ASSAY_CLUSTERS"]
    assert _engine_env(default)["ASSAY_ENGINE_SITE"] == clusters[0]["name"] == "in-cluster"
    assert _engine_env(objects({"engine": {"site": "prod-eu"}}))["ASSAY_ENGINE_SITE"] == "prod-eu"
    unwatched = objects({"inventory": {"watchCluster": {"enabled": False}}})
    assert "ASSAY_ENGINE_SITE" not in _engine_env(unwatched)  # no site: every site's requests


def test_the_updater_owns_advisory_data_when_enabled(custom: list[dict[str, Any]]) -> None:
    """Issue 14: one updater replica refreshes on an interval into the object store; no engine
    init container builds its own copy; every bus user and policy gets the shared store."""
    updater = by_name(custom, "Deployment", "assay-updater")
    assert updater["spec"]["replicas"] == 1
    (container,) = updater["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["service", "updater"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ASSAY_UPDATER_INTERVAL_S"] == "3600"
    assert env["ASSAY_UPDATER_SOURCE"] == "https://mirror.example/osv"
    engine = by_name(custom, "Deployment", "assay-engine")["spec"]["template"]["spec"]
    assert "initContainers" not in engine
    for name in ("assay-inventory", "assay-dedupe", "assay-engine", "assay-policy", "assay-updater"):
        c = by_name(custom, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        values = {e["name"]: e.get("value") for e in c["env"]}
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"] if "valueFrom" in e}
        assert values["ASSAY_AWS_S3_BUCKET"] == "assay-prod"
        assert refs["ASSAY_AWS_SECRET_ACCESS_KEY"] == {"name": "aws-creds", "key": "secret_access_key"}
    assert by_name(custom, "ServiceAccount", "assay-updater")["automountServiceAccountToken"] is False
    egress = _ports(_allowed(custom, "updater", "egress"))
    assert egress >= {9092, 5432, 443}
    assert of_kind(custom, "PersistentVolumeClaim") == []  # the bucket is the store: no shared volume


def test_a_default_install_refreshes_advisories_through_a_shared_volume(
    default: list[dict[str, Any]],
) -> None:
    """Issue 14: the updater is on by default; with no S3 bucket its builds (and claim-checked
    payloads) go to one ReadWriteMany claim that every service but the API mounts as the object
    store's directory; no engine builds its own copy. With the updater off nothing is mounted and
    each engine pod builds its database once (the init container)."""
    (claim,) = of_kind(default, "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in COMPONENTS:
        spec = by_name(default, "Deployment", f"assay-{name}")["spec"]["template"]["spec"]
        claims = [
            v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"] if "persistentVolumeClaim" in v
        ]
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        if name == "api":
            assert (claims, env.get("ASSAY_OBJECT_STORE_DIR")) == ([], None)
            continue
        assert claims == [claim["metadata"]["name"]]
        (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "objects"]
        assert env["ASSAY_OBJECT_STORE_DIR"] == mount["mountPath"]
        assert "initContainers" not in spec
    off = objects({"updater": {"enabled": False}})
    assert of_kind(off, "PersistentVolumeClaim") == []
    engine = by_name(off, "Deployment", "assay-engine")["spec"]["template"]["spec"]
    assert [c["args"] for c in engine["initContainers"]] == [["db", "update"]]
    existing = objects({"objectStore": {"volume": {"existingClaim": "nfs-assay"}}})
    assert of_kind(existing, "PersistentVolumeClaim") == []
    policy = by_name(existing, "Deployment", "assay-policy")["spec"]["template"]["spec"]
    assert {"name": "objects", "persistentVolumeClaim": {"claimName": "nfs-assay"}} in policy["volumes"]


def test_ecs_inventory_is_opt_in_and_maps_to_its_settings() -> None:
    """Issue 14 scenario 5's deployment: the inventory polls ECS (Fargate tasks included) when asked."""
    values = {"inventory": {"crawlIntervalSeconds": 60, "ecs": {"enabled": True, "clusters": ["a", "b"]}}}
    for objs, ecs in ((objects(), None), (objects(values), "true")):
        inventory = by_name(objs, "Deployment", "assay-inventory")["spec"]["template"]["spec"]["containers"][
            0
        ]
        env = {e["name"]: e.get("value") for e in inventory["env"]}
        assert env.get("ASSAY_AWS_ECS") == ecs
    assert env["ASSAY_AWS_ECS_CLUSTERS"] == "a,b"
    assert env["ASSAY_CRAWL_INTERVAL_S"] == "60"
    with pytest.raises(Exception, match=r"inventory\.ecs\.region"):
        objects(
            {**values, "objectStore": {"s3Bucket": "b", "region": "eu-west-1"}}
            | {"inventory": {"ecs": {"enabled": True, "region": "us-east-2"}}}
        )


def test_admission_and_harbor_are_off_by_default_and_complete_when_on(default: list[dict[str, Any]]) -> None:
    """Issue 19: the webhook (with its Service, certificate and CA bundle) and Harbor's adapter."""
    names = {o["metadata"]["name"] for o in default}
    assert not {"assay-admission", "assay-harbor"} & names
    on = objects({"admission": {"enabled": True}, "harbor": {"enabled": True}})
    (config,) = of_kind(on, "ValidatingWebhookConfiguration")
    (webhook,) = config["webhooks"]
    assert webhook["clientConfig"]["service"] == {
        "name": "assay-admission",
        "namespace": "assay",
        "path": "/validate",
        "port": 443,
    }
    secret = by_name(on, "Secret", "assay-admission-tls")
    assert webhook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]  # the CA that signed tls.crt
    assert webhook["failurePolicy"] == "Ignore"
    assert "assay" in webhook["namespaceSelector"]["matchExpressions"][0]["values"]  # never itself
    (container,) = by_name(on, "Deployment", "assay-admission")["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["service", "admission"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ASSAY_ADMISSION_TLS_CERT"].startswith("/etc/assay/tls/")
    assert by_name(on, "Service", "assay-harbor")["spec"]["ports"][0]["port"] == 8090
    harbor = by_name(on, "Deployment", "assay-harbor")["spec"]["template"]["spec"]
    assert [c["args"] for c in harbor["initContainers"]] == [["db", "update"]]
    closed = objects({"admission": {"enabled": True, "failClosed": True}})
    (webhook,) = of_kind(closed, "ValidatingWebhookConfiguration")[0]["webhooks"]
    assert webhook["failurePolicy"] == "Fail"


def test_admission_takes_its_certificate_from_cert_manager_when_installed() -> None:
    on = objects({"admission": {"enabled": True, "certManager": {"installed": True}}})
    assert [o["kind"] for o in on if o["kind"] in ("Issuer", "Certificate")] == ["Issuer", "Certificate"]
    (config,) = of_kind(on, "ValidatingWebhookConfiguration")
    assert config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == "assay/assay-admission"
    assert "caBundle" not in config["webhooks"][0]["clientConfig"]
    assert [o for o in of_kind(on, "Secret") if o["metadata"]["name"] == "assay-admission-tls"] == []
