{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "eac.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already contains the chart name. */}}
{{- define "eac.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "eac.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "eac.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eac.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "eac.labels" -}}
helm.sh/chart: {{ include "eac.chart" . }}
{{ include "eac.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: ecs-attributes-controller
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "eac.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "eac.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespace holding the leader-election Lease. */}}
{{- define "eac.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* registry/repository, or repository alone when registry is empty (mirrors: set only registry). */}}
{{- define "eac.imageName" -}}
{{- if .registry }}{{ printf "%s/%s" .registry .repository }}{{ else }}{{ .repository }}{{ end }}
{{- end }}

{{- define "eac.image" -}}
{{- $name := include "eac.imageName" .Values.image }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $name .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $name (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "eac.testImage" -}}
{{- printf "%s:%s" (include "eac.imageName" .Values.tests.image) .Values.tests.image.tag }}
{{- end }}

{{/* The Service in front of the pods' metrics and health ports (helm test reaches /readyz through it). */}}
{{- define "eac.serviceName" -}}
{{- printf "%s-metrics" (include "eac.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* terminationGracePeriodSeconds: explicit, or shutdown timeout + 15 s for the process to exit. */}}
{{- define "eac.terminationGracePeriodSeconds" -}}
{{- $shutdown := int .Values.controller.shutdownTimeoutSeconds }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- if eq $grace 0 }}
{{- $grace = add $shutdown 15 }}
{{- end }}
{{- if le $grace $shutdown }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be greater than controller.shutdownTimeoutSeconds (%d), or the kubelet kills the controller mid-shutdown" $grace $shutdown) }}
{{- end }}
{{- $grace }}
{{- end }}

{{/* "ModifyInstanceAttribute=5,DescribeInstances=20" from the ecs.actionQps map (sorted keys). */}}
{{- define "eac.actionQps" -}}
{{- $items := list }}
{{- range $action, $qps := .Values.ecs.actionQps }}
{{- $items = append $items (printf "%s=%v" $action $qps) }}
{{- end }}
{{- join "," $items }}
{{- end }}

{{/* The Secret with the metrics serving certificate, when one is used (else empty). */}}
{{- define "eac.metricsCertSecret" -}}
{{- if and .Values.metrics.enabled .Values.metrics.secure .Values.metrics.certSecret }}{{ .Values.metrics.certSecret }}{{ end }}
{{- end }}

{{/*
tlsConfig of the Service/PodMonitor: verify against the certSecret's CA when there is one; a
self-signed certificate cannot be verified (the token still guards the endpoint).
*/}}
{{- define "eac.metricsTlsConfig" -}}
{{- if .Values.metrics.certSecret -}}
ca:
  secret:
    name: {{ .Values.metrics.certSecret }}
    key: ca.crt
serverName: {{ include "eac.serviceName" . }}.{{ .Release.Namespace }}.svc
{{- else -}}
insecureSkipVerify: true
{{- end }}
{{- end }}

{{/* Fails with a clear message on combinations the schema cannot express. */}}
{{- define "eac.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "replicaCount is %d but leaderElection.enabled is false: every replica would write to ECS at once. Enable leader election or set replicaCount: 1" (int .Values.replicaCount)) }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not (and .Values.metrics.enabled .Values.metrics.service.enabled)) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled and metrics.service.enabled" }}
{{- end }}
{{- if and .Values.metrics.podMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "metrics.podMonitor.enabled needs metrics.enabled" }}
{{- end }}
{{- if and .Values.metrics.podMonitor.enabled .Values.metrics.secure (not .Values.metrics.podMonitor.bearerTokenSecret.name) }}
{{- fail "metrics.podMonitor.enabled with metrics.secure needs metrics.podMonitor.bearerTokenSecret.name: a Secret holding a token allowed by the metrics-reader ClusterRole" }}
{{- end }}
{{- if and (or .Values.metrics.prometheusRule.enabled .Values.metrics.dashboard.enabled) (not .Values.metrics.enabled) }}
{{- fail "metrics.prometheusRule.enabled and metrics.dashboard.enabled need metrics.enabled (they query the controller's metrics)" }}
{{- end }}
{{- if and .Values.tests.enabled (not .Values.metrics.service.enabled) }}
{{- fail "tests.enabled needs metrics.service.enabled: the helm test Pod reaches /readyz through that Service" }}
{{- end }}
{{- if and .Values.credentials.existingSecret (or (not .Values.credentials.accessKeyIdKey) (not .Values.credentials.accessKeySecretKey)) }}
{{- fail "credentials.existingSecret is set: credentials.accessKeyIdKey and credentials.accessKeySecretKey must name keys in it" }}
{{- end }}
{{- end }}

{{/* HTTP(S)_PROXY / NO_PROXY in both spellings (tools differ in which one they read). */}}
{{- define "eac.proxyEnv" -}}
{{- $p := .Values.proxy }}
{{- if or $p.httpProxy $p.httpsProxy }}
{{- range $name, $value := dict "HTTP_PROXY" $p.httpProxy "HTTPS_PROXY" $p.httpsProxy "NO_PROXY" $p.noProxy }}
{{- if $value }}
- name: {{ $name }}
  value: {{ $value | quote }}
- name: {{ lower $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
# Node's own http/https/fetch clients read the variables above only with this switch (Node >= 24.5).
- name: NODE_USE_ENV_PROXY
  value: "1"
{{- end }}
{{- end }}

{{/*
NODE_OPTIONS with V8's heap limits (values.yaml `v8` says why): old space at v8.oldSpacePercent of the
memory limit, semi-space at v8.semiSpaceMiB. Nothing when both are 0 or extraEnv sets NODE_OPTIONS.
Memory quantities: plain bytes or Ki/Mi/Gi/K/M/G suffixes.
*/}}
{{- define "eac.v8Env" -}}
{{- $own := false -}}
{{- range .Values.extraEnv }}{{ if eq .name "NODE_OPTIONS" }}{{ $own = true }}{{ end }}{{ end -}}
{{- $v8 := .Values.v8 | default dict -}}
{{- $pct := int ($v8.oldSpacePercent | default 0) -}}
{{- $semi := int ($v8.semiSpaceMiB | default 0) -}}
{{- $limit := toString (dig "limits" "memory" "" (.Values.resources | default dict)) -}}
{{- $flags := list -}}
{{- if and (gt $pct 0) $limit -}}
{{- $units := dict "" 1.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "K" 1000.0 "M" 1000000.0 "G" 1000000000.0 -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $limit -}}
{{- $suffix := trimPrefix $number $limit -}}
{{- if or (not $number) (not (hasKey $units $suffix)) }}{{ fail (printf "v8.oldSpacePercent: cannot read resources.limits.memory %q (use e.g. 256Mi, or set v8.oldSpacePercent: 0)" $limit) }}{{ end -}}
{{- $bytes := mulf (float64 $number) (get $units $suffix) -}}
{{- $flags = append $flags (printf "--max-old-space-size=%d" (int (floor (divf (mulf $bytes $pct) 104857600.0)))) -}}
{{- end -}}
{{- if gt $semi 0 }}{{ $flags = append $flags (printf "--max-semi-space-size=%d" $semi) }}{{ end -}}
{{- if and (not $own) $flags }}
- name: NODE_OPTIONS
  value: {{ join " " $flags | quote }}
{{- end -}}
{{- end }}
