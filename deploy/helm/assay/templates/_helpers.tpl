{{/* Labels on every object; `component` names the service. */}}
{{- define "assay.labels" -}}
app.kubernetes.io/name: assay
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{- define "assay.selector" -}}
app.kubernetes.io/name: assay
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "assay.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "assay.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
{{- end -}}

{{/* The "restricted" Pod Security Standard, pod level. */}}
{{- define "assay.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The "restricted" Pod Security Standard, container level. */}}
{{- define "assay.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The engines' site (ASSAY_ENGINE_SITE): engine.site, else the watched in-cluster cluster's name,
so that this cluster's sightings (routed to its site) are scanned here; "" serves every site. */}}
{{- define "assay.engineSite" -}}
{{- if .Values.engine.site -}}
{{- .Values.engine.site -}}
{{- else if .Values.inventory.watchCluster.enabled -}}
{{- .Values.inventory.watchCluster.name -}}
{{- end -}}
{{- end -}}

{{/* The engines' consumer group: one per site (services/cli/service.py), which KEDA watches. */}}
{{- define "assay.engineGroup" -}}
{{- $site := include "assay.engineSite" . -}}
{{- if $site -}}
{{- printf "%s-engine-%s" .Values.consumerGroupPrefix $site -}}
{{- else -}}
{{- printf "%s-engine" .Values.consumerGroupPrefix -}}
{{- end -}}
{{- end -}}

{{/* The shared object store's settings (services/common/objectstore.py), when one is configured. */}}
{{- define "assay.objectStoreEnv" -}}
{{- with .Values.objectStore }}
{{- if .s3Bucket }}
- name: ASSAY_AWS_S3_BUCKET
  value: {{ .s3Bucket | quote }}
- name: ASSAY_AWS_S3_PREFIX
  value: {{ .s3Prefix | quote }}
{{- with .region }}
- name: ASSAY_AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with .endpointUrl }}
- name: ASSAY_AWS_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- with .credentialsSecret }}
- name: ASSAY_AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: {name: {{ . }}, key: access_key_id}
- name: ASSAY_AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ . }}, key: secret_access_key}
{{- end }}
{{- end }}
{{- end }}
{{- if include "assay.sharedVolume" . }}
- name: ASSAY_OBJECT_STORE_DIR
  value: {{ .Values.objectStore.volume.mountPath | quote }}
{{- end }}
{{- end -}}

{{/* "true" when the object store is the shared volume: the updater on and no S3 bucket. */}}
{{- define "assay.sharedVolume" -}}
{{- if and .Values.updater.enabled (not .Values.objectStore.s3Bucket) (include "assay.central" .) -}}
true
{{- end -}}
{{- end -}}

{{/* The shared volume's claim name. */}}
{{- define "assay.objectsClaim" -}}
{{- .Values.objectStore.volume.existingClaim | default (printf "%s-objects" .Release.Name) -}}
{{- end -}}

{{/* The PostgreSQL DSN, for the services that use the store. */}}
{{- define "assay.pgEnv" -}}
- name: ASSAY_PG_DSN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgresql.existingSecret }}
      key: {{ .Values.postgresql.dsnKey }}
{{- end -}}

{{/* Settings of every process that talks to Kafka. */}}
{{- define "assay.kafkaEnv" -}}
- name: ASSAY_KAFKA_BOOTSTRAP
  value: {{ .Values.kafka.bootstrap | quote }}
- name: ASSAY_KAFKA_CONSUMER_GROUP_PREFIX
  value: {{ .Values.consumerGroupPrefix | quote }}
{{- with .Values.otelExporter }}
- name: ASSAY_OTEL_EXPORTER
  value: {{ . | quote }}
{{- end }}
{{- if and (eq .Values.otelExporter "otlp") .Values.otelEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.otelEndpoint | quote }}
{{- end }}
{{- with .Values.kafka.auth.existingSecret }}
- name: ASSAY_KAFKA_SECURITY_PROTOCOL
  value: {{ $.Values.kafka.auth.securityProtocol | default "SASL_SSL" | quote }}
- name: ASSAY_KAFKA_SASL_MECHANISM
  valueFrom:
    secretKeyRef: {name: {{ . }}, key: mechanism}
- name: ASSAY_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef: {name: {{ . }}, key: username}
- name: ASSAY_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ . }}, key: password}
{{- end }}
{{- include "assay.kafkaTlsEnv" . }}
{{- end -}}

{{/* ASSAY_REGISTRIES from its Secret, for the services that talk to registries. */}}
{{- define "assay.registriesEnv" -}}
{{- with .Values.registries.existingSecret }}
- name: ASSAY_REGISTRIES
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.registries.key }}
{{- end }}
{{- end -}}

{{/* The writable places of a read-only root filesystem: the data dir and /tmp. */}}
{{- define "assay.volumeMounts" -}}
- name: data
  mountPath: /var/lib/assay
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* A NetworkPolicy podSelector for some components. */}}
{{- define "assay.components" -}}
podSelector:
  matchExpressions:
    - key: app.kubernetes.io/component
      operator: In
      values: {{ toJson .components }}
{{- end -}}

{{/* Egress to Kafka: its namespace in this cluster, or kafka.cidrs (an agent's central Kafka). */}}
{{- define "assay.kafkaPeers" -}}
- to:
    {{- if .Values.kafka.cidrs }}
    {{- range .Values.kafka.cidrs }}
    - ipBlock: {cidr: {{ . }}}
    {{- end }}
    {{- else }}
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.kafka.namespace }}
    {{- end }}
  ports:
    {{- range .Values.kafka.ports }}
    - protocol: TCP
      port: {{ . }}
    {{- end }}
{{- end -}}

{{/* The inventory's ECS poll (services/inventory/aws/ecs.py), when inventory.ecs.enabled. Its region
must agree with the object store's: both are ASSAY_AWS_REGION. */}}
{{- define "assay.ecsEnv" -}}
{{- with .Values.inventory.ecs }}
{{- if .enabled }}
- name: ASSAY_AWS_ECS
  value: "true"
{{- with .clusters }}
- name: ASSAY_AWS_ECS_CLUSTERS
  value: {{ join "," . | quote }}
{{- end }}
{{- if and .region $.Values.objectStore.s3Bucket $.Values.objectStore.region (ne .region $.Values.objectStore.region) }}
{{- fail "inventory.ecs.region and objectStore.region differ: the inventory has one AWS region" }}
{{- end }}
{{- if and .region (not (and $.Values.objectStore.s3Bucket $.Values.objectStore.region)) }}
- name: ASSAY_AWS_REGION
  value: {{ .region | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
"true" when a component talks to the watched cluster's API server: the inventory (its pod watch) and,
with engine.podPullSecrets, the engines (they get the secrets the pods name); else "false".
*/}}
{{- define "assay.kubeApiToken" -}}
{{- $v := .root.Values -}}
{{- $inventory := and (eq .component "inventory") $v.inventory.watchCluster.enabled -}}
{{- $engine := and (eq .component "engine") $v.inventory.watchCluster.enabled $v.engine.podPullSecrets -}}
{{- ternary "true" "false" (or $inventory $engine) -}}
{{- end }}

{{/* "true" in the central install (mode: central); "" in a remote cluster's agent (mode: agent),
which runs the inventory watch and the node daemon only and publishes to the central Kafka. */}}
{{- define "assay.central" -}}
{{- if not (has .Values.mode (list "central" "agent")) -}}
{{- fail (printf "mode: %q is neither central nor agent" .Values.mode) -}}
{{- end -}}
{{- if eq .Values.mode "central" -}}
true
{{- else if not .Values.inventory.watchCluster.enabled -}}
{{- fail "mode: agent watches its own cluster: inventory.watchCluster.enabled must be true" -}}
{{- end -}}
{{- end -}}

{{/* The Deployments of this install, as a JSON list: the pipeline's, or the agent's inventory alone. */}}
{{- define "assay.deployed" -}}
{{- if include "assay.central" . -}}
{{- $components := list "inventory" "dedupe" "engine" "policy" "api" -}}
{{- if .Values.updater.enabled -}}
{{- $components = append $components "updater" -}}
{{- end -}}
{{- toJson $components -}}
{{- else -}}
{{- toJson (list "inventory") -}}
{{- end -}}
{{- end -}}

{{/* TLS files for Kafka (kafka.tls), mounted from their Secrets: the brokers' CA, the mTLS client. */}}
{{- define "assay.kafkaTlsEnv" -}}
{{- with .Values.kafka.tls }}
{{- if .caSecret }}
- name: ASSAY_KAFKA_SSL_CAFILE
  value: /etc/assay/kafka-tls/ca/ca.crt
{{- end }}
{{- if .clientSecret }}
- name: ASSAY_KAFKA_SSL_CERTFILE
  value: /etc/assay/kafka-tls/client/tls.crt
- name: ASSAY_KAFKA_SSL_KEYFILE
  value: /etc/assay/kafka-tls/client/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{- define "assay.kafkaTlsMounts" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/assay/kafka-tls/ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.clientSecret }}
- name: kafka-client
  mountPath: /etc/assay/kafka-tls/client
  readOnly: true
{{- end }}
{{- end -}}

{{- define "assay.kafkaTlsVolumes" -}}
{{- with .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret: {secretName: {{ . }}, items: [{key: ca.crt, path: ca.crt}]}
{{- end }}
{{- with .Values.kafka.tls.clientSecret }}
- name: kafka-client
  secret: {secretName: {{ . }}, items: [{key: tls.crt, path: tls.crt}, {key: tls.key, path: tls.key}]}
{{- end }}
{{- end -}}
