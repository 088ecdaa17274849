{{/* Labels of a component's objects (same as deploy/base). */}}
{{- define "ra.labels" -}}
app.kubernetes.io/name: redis-autoscaler
app.kubernetes.io/component: {{ . }}
{{- end }}

{{- define "ra.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Pod-level security context: non-root, RuntimeDefault seccomp. */}}
{{- define "ra.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile: {type: RuntimeDefault}
{{- end }}

{{/* Container security context: read-only root, no privilege, no capabilities. */}}
{{- define "ra.securityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}
{{- end }}

{{- define "ra.spread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "ra.labels" . | nindent 8 }}
{{- end }}
