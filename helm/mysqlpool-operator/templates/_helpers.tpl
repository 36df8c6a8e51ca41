{{/*
Names are fixed, not derived from the release name: the CRD, the ClusterRole and the webhook-free operator are
one per cluster, and clusterrole.yaml and role.yaml stay plain YAML that the operator's RbacTest and k3s E2E read
as they are.
*/}}

{{- define "mysqlpool-operator.labels" -}}
app.kubernetes.io/name: mysqlpool-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "mysqlpool-operator.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "mysqlpool-operator.proxyImage" -}}
{{ .Values.proxyImage.repository }}:{{ .Values.proxyImage.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Namespaces whose proxy pods the proxy PodMonitor selects; empty means all. */}}
{{- define "mysqlpool-operator.proxyNamespaces" -}}
{{- $ns := .Values.monitoring.proxyPodMonitor.namespaces | default .Values.watchNamespaces -}}
{{- if $ns }}
matchNames:
{{- range $ns }}
  - {{ . | quote }}
{{- end }}
{{- else }}
any: true
{{- end }}
{{- end }}
