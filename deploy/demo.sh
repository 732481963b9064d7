#!/usr/bin/env bash
# The README's main job on the embedded default: a real registry holding the fixture
# images, advisories loaded, then `assay up --until-idle` (embedded PostgreSQL and broker,
# one process per service), which prints the findings and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
VENV=${VENV:-.venv}
SHARED=${SHARED:-$REPO/../shared}
FIX=${ASSAY_FIXTURES:-$REPO/.fixtures}
DEMO=$REPO/.demo
mkdir -p "$DEMO"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$DEMO/registry.yml" <<YML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $DEMO/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: demo-not-a-secret}
YML
docker-registry serve "$DEMO/registry.yml" >"$DEMO/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
push() { skopeo copy -q --dest-tls-verify=false "oci:$FIX/oci/$1:latest" "docker://127.0.0.1:$port/$2"; }
push debian demo/debian:latest
push debian demo/debian:stable
push alpine demo/alpine:3.20
push corrupt-status demo/corrupt:latest
echo "demo: registry 127.0.0.1:$port holds demo/debian (2 tags), demo/alpine, demo/corrupt"

export ASSAY_DATA_DIR=$DEMO/data
source=${ASSAY_DB_SOURCE:-}
if [ -z "$source" ] && [ -d "$SHARED/vulndata" ]; then source=$SHARED/vulndata; fi
kev=$SHARED/kev/known_exploited_vulnerabilities.json  # CISA's catalog, offline; marks known-exploited CVEs
"$VENV/bin/assay" db update ${source:+--source "$source"} $([ -f "$kev" ] && echo --kev "$kev")
# the updater `assay up` runs refreshes from the same offline data, never from the network
if [ -n "$source" ]; then export ASSAY_DB_SOURCE=$source; fi
if [ -f "$kev" ]; then export ASSAY_UPDATER_KEV_SOURCE=$kev; fi
ASSAY_REGISTRIES="127.0.0.1:$port;insecure" "$VENV/bin/assay" up --until-idle
