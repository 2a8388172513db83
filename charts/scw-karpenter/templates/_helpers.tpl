{{/* The chart's name, for labels. */}}
{{- define "scw-karpenter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object's name: the release name, or release-chart when they differ. */}}
{{- define "scw-karpenter.fullname" -}}
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

{{- define "scw-karpenter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "scw-karpenter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "scw-karpenter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scw-karpenter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels and selector of one component: call with (dict "root" $ "component" "watcher"). */}}
{{- define "scw-karpenter.componentLabels" -}}
{{ include "scw-karpenter.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- define "scw-karpenter.componentSelector" -}}
{{ include "scw-karpenter.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "scw-karpenter.serviceAccountName" -}}
{{ include "scw-karpenter.fullname" .root }}-{{ .component }}
{{- end }}

{{- define "scw-karpenter.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end }}

{{/* The Secret with the SCW_* variables, or "" when only a profile file is given. */}}
{{- define "scw-karpenter.scalewaySecretName" -}}
{{- if .Values.scaleway.existingSecret -}}
{{ .Values.scaleway.existingSecret }}
{{- else if or .Values.scaleway.accessKey (not .Values.scaleway.configFile.existingSecret) -}}
{{ include "scw-karpenter.fullname" . }}-scaleway
{{- end -}}
{{- end }}

{{/* The payload codec key Secret, or "" when none is configured. */}}
{{- define "scw-karpenter.payloadCodecSecretName" -}}
{{- if .Values.payloadCodec.existingSecret -}}
{{ .Values.payloadCodec.existingSecret }}
{{- else if .Values.payloadCodec.key -}}
{{ include "scw-karpenter.fullname" . }}-payload-codec
{{- end -}}
{{- end }}

{{/*
Pod template annotations that change with the Secrets the pods read, so that a credentials change rolls
the pods (their environment is read once, at start): the chart's own Secrets by their rendered content;
Secrets made by hand (existingSecret) by their data as the cluster has it at install or upgrade (lookup;
helm template cannot see a cluster, so there it only changes with the Secrets' names).
*/}}
{{- define "scw-karpenter.checksumAnnotations" -}}
checksum/secrets: {{ include (print .Template.BasePath "/secrets.yaml") . | sha256sum }}
{{- $names := list .Values.scaleway.existingSecret .Values.scaleway.configFile.existingSecret .Values.payloadCodec.existingSecret .Values.temporal.apiKey.existingSecret }}
{{- if .Values.temporal.tls.enabled }}
{{- $names = append $names .Values.temporal.tls.existingSecret }}
{{- end }}
{{- $existing := dict }}
{{- range $name := compact $names | uniq }}
{{- $secret := lookup "v1" "Secret" $.Release.Namespace $name }}
{{- $_ := set $existing $name (get $secret "data" | default dict) }}
{{- end }}
{{- if $existing }}
checksum/existing-secrets: {{ toJson $existing | sha256sum }}
{{- end }}
{{- end }}

{{/* The pod template of a component: call with (dict "root" $ "component" "watcher" "values" .Values.watcher "env" (list ...)). */}}
{{- define "scw-karpenter.podSpec" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $c := .values -}}
{{- $selector := include "scw-karpenter.componentSelector" (dict "root" $root "component" .component) | fromYaml -}}
{{- $scwSecret := include "scw-karpenter.scalewaySecretName" $root -}}
{{- $codecSecret := include "scw-karpenter.payloadCodecSecretName" $root -}}
serviceAccountName: {{ include "scw-karpenter.serviceAccountName" . }}
automountServiceAccountToken: true
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $v.priorityClassName $c.priorityClassName) }}
priorityClassName: {{ . | quote }}
{{- end }}
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
containers:
  - name: {{ .component }}
    image: {{ include "scw-karpenter.image" $root }}
    imagePullPolicy: {{ $v.image.pullPolicy }}
    args: [{{ .component | quote }}]
    securityContext:
      {{- toYaml $v.securityContext | nindent 6 }}
    env:
      - name: POD_NAMESPACE
        valueFrom:
          fieldRef:
            fieldPath: metadata.namespace
      - name: POD_NAME
        valueFrom:
          fieldRef:
            fieldPath: metadata.name
      - name: CLUSTER_NAME
        value: {{ $v.clusterName | quote }}
      - name: LOG_LEVEL
        value: {{ $v.logLevel | quote }}
      - name: LOG_FORMAT
        value: {{ $v.logFormat | quote }}
      - name: METRICS_PORT
        value: {{ $v.metrics.port | quote }}
      - name: HEALTH_PROBE_PORT
        value: {{ $v.healthProbe.port | quote }}
      - name: TEMPORAL_ADDRESS
        value: {{ $v.temporal.address | quote }}
      - name: TEMPORAL_NAMESPACE
        value: {{ $v.temporal.namespace | quote }}
      - name: TEMPORAL_TASK_QUEUE
        value: {{ $v.temporal.taskQueue | quote }}
      - name: TEMPORAL_UI_URL
        value: {{ $v.temporal.uiUrl | quote }}
      {{- if or $v.temporal.tls.enabled $v.temporal.apiKey.existingSecret }}
      - name: TEMPORAL_TLS
        value: "true"
      {{- end }}
      {{- if and $v.temporal.tls.enabled $v.temporal.tls.existingSecret }}
      {{- if $v.temporal.tls.clientCert }}
      - name: TEMPORAL_TLS_CLIENT_CERT_PATH
        value: /etc/temporal/tls/tls.crt
      - name: TEMPORAL_TLS_CLIENT_KEY_PATH
        value: /etc/temporal/tls/tls.key
      {{- end }}
      {{- if $v.temporal.tls.serverCa }}
      - name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
        value: /etc/temporal/tls/ca.crt
      {{- end }}
      {{- end }}
      {{- with $v.temporal.tls.serverName }}
      - name: TEMPORAL_TLS_SERVER_NAME
        value: {{ . | quote }}
      {{- end }}
      {{- if $v.temporal.apiKey.existingSecret }}
      - name: TEMPORAL_API_KEY
        valueFrom:
          secretKeyRef:
            name: {{ $v.temporal.apiKey.existingSecret }}
            key: {{ $v.temporal.apiKey.key }}
      {{- end }}
      {{- if $scwSecret }}
      {{- range list "SCW_ACCESS_KEY" "SCW_SECRET_KEY" "SCW_DEFAULT_PROJECT_ID" }}
      - name: {{ . }}
        valueFrom:
          secretKeyRef:
            name: {{ $scwSecret }}
            key: {{ . }}
            {{- if $v.scaleway.configFile.existingSecret }}
            optional: true
            {{- end }}
      {{- end }}
      {{- end }}
      {{- with $v.scaleway.apiUrl }}
      - name: SCW_API_URL
        value: {{ . | quote }}
      {{- end }}
      {{- if $v.scaleway.configFile.existingSecret }}
      - name: SCW_CONFIG_PATH
        value: /etc/scaleway/{{ $v.scaleway.configFile.key }}
      {{- with $v.scaleway.configFile.profile }}
      - name: SCW_PROFILE
        value: {{ . | quote }}
      {{- end }}
      {{- end }}
      {{- if $codecSecret }}
      - name: PAYLOAD_CODEC_KEY_SECRET
        value: {{ printf "%s/%s" $root.Release.Namespace $codecSecret | quote }}
      {{- end }}
      - name: PAYLOAD_CODEC_REQUIRED
        value: {{ $v.payloadCodec.required | quote }}
      {{- with .env }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
      {{- with $v.extraEnv }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
      {{- with $c.env }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    ports:
      - name: http-metrics
        containerPort: {{ $v.metrics.port }}
        protocol: TCP
      - name: http-health
        containerPort: {{ $v.healthProbe.port }}
        protocol: TCP
    livenessProbe:
      httpGet:
        path: /healthz
        port: http-health
      initialDelaySeconds: 30
      timeoutSeconds: 30
    readinessProbe:
      httpGet:
        path: /readyz
        port: http-health
      initialDelaySeconds: 5
      timeoutSeconds: 30
    {{- with $c.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    volumeMounts:
      # The root filesystem is read-only: Node and the Temporal SDK write their temporary files here.
      - name: tmp
        mountPath: /tmp
      {{- if $v.scaleway.configFile.existingSecret }}
      - name: scaleway-config
        mountPath: /etc/scaleway
        readOnly: true
      {{- end }}
      {{- if and $v.temporal.tls.enabled $v.temporal.tls.existingSecret }}
      - name: temporal-tls
        mountPath: /etc/temporal/tls
        readOnly: true
      {{- end }}
volumes:
  - name: tmp
    emptyDir: {}
  {{- if $v.scaleway.configFile.existingSecret }}
  - name: scaleway-config
    secret:
      secretName: {{ $v.scaleway.configFile.existingSecret }}
      items:
        - key: {{ $v.scaleway.configFile.key }}
          path: {{ $v.scaleway.configFile.key }}
  {{- end }}
  {{- if and $v.temporal.tls.enabled $v.temporal.tls.existingSecret }}
  - name: temporal-tls
    secret:
      secretName: {{ $v.temporal.tls.existingSecret }}
  {{- end }}
{{- with (default $v.nodeSelector $c.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $v.tolerations $c.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $affinity := deepCopy (default $v.affinity $c.affinity) }}
{{- if not $affinity.podAntiAffinity }}
{{- $term := dict "weight" 100 "podAffinityTerm" (dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" $selector)) }}
{{- $_ := set $affinity "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list $term)) }}
{{- end }}
affinity:
  {{- toYaml $affinity | nindent 2 }}
{{- with (default $v.topologySpreadConstraints $c.topologySpreadConstraints) }}
{{- $constraints := list }}
{{- range . }}
{{- $constraint := deepCopy . }}
{{- if not $constraint.labelSelector }}
{{- $_ := set $constraint "labelSelector" (dict "matchLabels" $selector) }}
{{- end }}
{{- $constraints = append $constraints $constraint }}
{{- end }}
topologySpreadConstraints:
  {{- toYaml $constraints | nindent 2 }}
{{- end }}
{{- end }}
