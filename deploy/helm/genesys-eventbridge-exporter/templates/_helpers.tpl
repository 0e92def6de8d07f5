{{/*
The chart's name, 63 characters at most (a DNS label).
*/}}
{{- define "genesys-eventbridge-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects. A release name that already contains
the chart's name is used as it is.
*/}}
{{- define "genesys-eventbridge-exporter.fullname" -}}
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

{{- define "genesys-eventbridge-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "genesys-eventbridge-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "genesys-eventbridge-exporter.labels" -}}
helm.sh/chart: {{ include "genesys-eventbridge-exporter.chart" . }}
{{ include "genesys-eventbridge-exporter.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "genesys-eventbridge-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "genesys-eventbridge-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "genesys-eventbridge-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "genesys-eventbridge-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "genesys-eventbridge-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Where the pod holds its files. Organisation names are
[A-Za-z0-9][A-Za-z0-9._-]{0,62}: always a valid folder name.
*/}}
{{- define "genesys-eventbridge-exporter.configDir" -}}/etc/genesys-eventbridge-exporter/config{{- end }}
{{- define "genesys-eventbridge-exporter.clientSecretDir" -}}/etc/genesys-eventbridge-exporter/client-secret{{- end }}
{{- define "genesys-eventbridge-exporter.organizationsDir" -}}/etc/genesys-eventbridge-exporter/organizations{{- end }}
{{- define "genesys-eventbridge-exporter.webDir" -}}/etc/genesys-eventbridge-exporter/web{{- end }}

{{/*
The scrape scheme: https when the web configuration sets up TLS.
*/}}
{{- define "genesys-eventbridge-exporter.scheme" -}}
{{- if .Values.webConfig.tls }}https{{ else }}http{{ end }}
{{- end }}

{{/*
The configuration file (--config.file): consumer_groups of the flags'
organisation and organizations, each with client_secret_file pointing at its
mounted Secret. Duplicate organisation names stop the rendering.
*/}}
{{- define "genesys-eventbridge-exporter.configFile" -}}
{{- $file := dict }}
{{- with .Values.consumerGroups }}
{{- $_ := set $file "consumer_groups" . }}
{{- end }}
{{- $orgs := list }}
{{- $seen := dict }}
{{- range .Values.organizations }}
{{- if hasKey $seen .name }}
{{- fail (printf "organizations: the name %q is given twice; each organisation is one /probe target and needs its own name" .name) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- $org := omit . "clientSecret" }}
{{- $_ := set $org "client_secret_file" (printf "%s/%s/%s" (include "genesys-eventbridge-exporter.organizationsDir" $) .name .clientSecret.key) }}
{{- $orgs = append $orgs $org }}
{{- end }}
{{- with $orgs }}
{{- $_ := set $file "organizations" . }}
{{- end }}
{{- if $file }}
{{- toYaml $file }}
{{- else }}
{{- /* Neither groups nor organisations: the flags alone. */}}
{{- "{}" }}
{{- end }}
{{- end }}

{{/*
The names /probe answers for: the organisations, and `demo` in demo mode.
*/}}
{{- define "genesys-eventbridge-exporter.probeTargets" -}}
{{- $targets := list }}
{{- if .Values.probe.targets }}
{{- $targets = .Values.probe.targets }}
{{- else }}
{{- if .Values.demo }}
{{- $targets = append $targets "demo" }}
{{- end }}
{{- range .Values.organizations }}
{{- $targets = append $targets .name }}
{{- end }}
{{- end }}
{{- toJson $targets }}
{{- end }}

{{/*
A health probe: the values' timings and the chart's handler.
*/}}
{{- define "genesys-eventbridge-exporter.healthProbe" -}}
{{- $root := index . 0 }}
{{- $path := index . 1 }}
{{- $timing := index . 2 }}
{{- if $root.Values.webConfig.basicAuth }}
tcpSocket:
  port: http
{{- else }}
httpGet:
  path: {{ $path }}
  port: http
  scheme: {{ include "genesys-eventbridge-exporter.scheme" $root | upper }}
{{- end }}
{{- with $timing }}
{{ toYaml . }}
{{- end }}
{{- end }}
