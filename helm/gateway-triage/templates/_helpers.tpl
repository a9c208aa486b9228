{{/*
Named templates of the chart. Each says in one line what it returns.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "gateway-triage.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name: fullnameOverride, or <release>-<chart> (just <release> when it already holds the chart name). */}}
{{- define "gateway-triage.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "gateway-triage.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "bot"). */}}
{{- define "gateway-triage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway-triage.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All standard labels of one component; call with (dict "ctx" $ "component" "bot"). */}}
{{- define "gateway-triage.labels" -}}
helm.sh/chart: {{ include "gateway-triage.chart" .ctx }}
{{ include "gateway-triage.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Values.image.tag | default .ctx.Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: {{ include "gateway-triage.name" .ctx }}
{{- end -}}

{{/* The label that tells the worker pools apart. */}}
{{- define "gateway-triage.poolLabelKey" -}}
gateway-triage/pool
{{- end -}}

{{/* The image reference of the bot and workers: repository@digest or repository:tag (tag defaults to appVersion). */}}
{{- define "gateway-triage.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount name the pods use. */}}
{{- define "gateway-triage.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gateway-triage.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the tokens: existingSecret, or the chart's own. */}}
{{- define "gateway-triage.secretName" -}}
{{- .Values.existingSecret | default (include "gateway-triage.fullname" .) -}}
{{- end -}}

{{/* "true" when the bot and workers have a Redis (external URL, URL in existingSecret, or in-chart), else empty. */}}
{{- define "gateway-triage.redisEnabled" -}}
{{- if or .Values.redis.url .Values.redis.fromExistingSecret .Values.redis.internal.enabled -}}true{{- end -}}
{{- end -}}

{{/* The name of the in-chart Redis Service (and Deployment). */}}
{{- define "gateway-triage.redisName" -}}
{{- printf "%s-redis" (include "gateway-triage.fullname" .) -}}
{{- end -}}

{{/* The Secret holding the in-chart Redis's password (key REDIS_PASSWORD). */}}
{{- define "gateway-triage.redisSecretName" -}}
{{- printf "%s-redis" (include "gateway-triage.fullname" .) -}}
{{- end -}}

{{/* The TCP port of Redis: 6379, or the port in redis.url or keda.redis.address. */}}
{{- define "gateway-triage.redisPort" -}}
{{- $port := "6379" -}}
{{- if .Values.redis.url -}}
{{- $host := (urlParse .Values.redis.url).host -}}
{{- if regexMatch ":[0-9]+$" $host -}}{{- $port = regexFind "[0-9]+$" $host -}}{{- end -}}
{{- else if and .Values.redis.fromExistingSecret .Values.keda.redis.address -}}
{{- $port = regexFind "[0-9]+$" .Values.keda.redis.address -}}
{{- end -}}
{{- $port -}}
{{- end -}}

{{/* The user:password part of redis.url, percent-encoded as written ("" when none). */}}
{{- define "gateway-triage.redisUserinfo" -}}
{{- if .Values.redis.url -}}{{- (urlParse .Values.redis.url).userinfo -}}{{- end -}}
{{- end -}}

{{/* The password in redis.url ("" when none). */}}
{{- define "gateway-triage.redisUrlPassword" -}}
{{- $ui := include "gateway-triage.redisUserinfo" . -}}
{{- if contains ":" $ui -}}{{- $ui | splitList ":" | rest | join ":" -}}{{- end -}}
{{- end -}}

{{/* The user name in redis.url ("" when none or the default user). */}}
{{- define "gateway-triage.redisUrlUsername" -}}
{{- $ui := include "gateway-triage.redisUserinfo" . -}}
{{- if $ui -}}{{- $ui | splitList ":" | first -}}{{- end -}}
{{- end -}}

{{/* host:port of Redis for KEDA: keda.redis.address, the host of redis.url, or the in-chart Service ("" when unknown). */}}
{{- define "gateway-triage.kedaRedisAddress" -}}
{{- if .Values.keda.redis.address -}}
{{- .Values.keda.redis.address -}}
{{- else if .Values.redis.url -}}
{{- $u := urlParse .Values.redis.url -}}
{{- printf "%s:%s" $u.hostname (include "gateway-triage.redisPort" .) -}}
{{- else if .Values.redis.internal.enabled -}}
{{- printf "%s.%s.svc:6379" (include "gateway-triage.redisName" .) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* The Redis database index of redis.url (KEDA's databaseIndex), default 0. */}}
{{- define "gateway-triage.redisDb" -}}
{{- $db := "0" -}}
{{- if .Values.redis.url -}}
{{- $path := (urlParse .Values.redis.url).path | trimPrefix "/" -}}
{{- if regexMatch "^[0-9]+$" $path -}}{{- $db = $path -}}{{- end -}}
{{- end -}}
{{- $db -}}
{{- end -}}

{{/* "true" when KEDA needs a TriggerAuthentication (Redis has a password or user the chart knows of), else empty. */}}
{{- define "gateway-triage.kedaNeedsAuth" -}}
{{- if or .Values.keda.redis.passwordFromExistingSecret (include "gateway-triage.redisUrlPassword" .) (include "gateway-triage.redisUrlUsername" .) .Values.redis.internal.enabled -}}true{{- end -}}
{{- end -}}

{{/* The name of the Deployment (and its companions) of one worker pool; call with (dict "ctx" $ "pool" "zone-a"). */}}
{{- define "gateway-triage.workerName" -}}
{{- printf "%s-worker-%s" (include "gateway-triage.fullname" .ctx) .pool | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The BullMQ waiting list of a pool in Redis, <prefix>:probes-<pool>:wait; call with (dict "ctx" $ "pool" "zone-a"). */}}
{{- define "gateway-triage.waitList" -}}
{{- printf "%s:probes-%s:wait" .ctx.Values.queue.prefix .pool -}}
{{- end -}}

{{/*
One worker pool with the workers.* defaults filled in, as YAML (read it back with fromYaml);
call with (dict "ctx" $ "pool" $pool). Any key the pool sets wins, even false or 0; the nested
autoscaling and keda maps are merged key by key.
*/}}
{{- define "gateway-triage.pool" -}}
{{- $w := .ctx.Values.workers -}}
{{- $p := .pool -}}
{{- $out := dict "name" $p.name "probeAllow" .ctx.Values.probes.allow "probeEgress" .ctx.Values.networkPolicy.probeEgress -}}
{{- range $k := list "replicas" "concurrency" "nodeSelector" "tolerations" "affinity" "resources" "podAnnotations" "podLabels" "extraEnv" -}}
{{- $_ := set $out $k (index $w $k) -}}
{{- end -}}
{{- range $k, $v := $p -}}
{{- if not (has $k (list "autoscaling" "keda")) -}}{{- $_ := set $out $k $v -}}{{- end -}}
{{- end -}}
{{- range $m := list "autoscaling" "keda" -}}
{{- $merged := deepCopy (index $w $m) -}}
{{- range $k, $v := (index $p $m | default dict) -}}{{- $_ := set $merged $k $v -}}{{- end -}}
{{- $_ := set $out $m $merged -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* A secretKeyRef env var from the release's Secret; call with (dict "ctx" $ "name" "SLACK_BOT_TOKEN" "optional" false). */}}
{{- define "gateway-triage.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "gateway-triage.secretName" .ctx }}
      key: {{ .name }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* The REDIS_URL and QUEUE_SECRET env vars shared by the bot and the workers (nothing without Redis). */}}
{{- define "gateway-triage.redisEnv" -}}
{{- if include "gateway-triage.redisEnabled" . -}}
{{- if .Values.redis.internal.enabled -}}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "gateway-triage.redisSecretName" . }}
      key: REDIS_PASSWORD
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "gateway-triage.redisName" .) | quote }}
{{- else -}}
{{ include "gateway-triage.secretEnv" (dict "ctx" . "name" "REDIS_URL") }}
{{- end }}
{{ include "gateway-triage.secretEnv" (dict "ctx" . "name" "QUEUE_SECRET") }}
{{- end -}}
{{- end -}}

{{/* The name of the ConfigMap with extra CA certificates ("" when none). */}}
{{- define "gateway-triage.caConfigMap" -}}
{{- if .Values.extraCaCerts.existingConfigMap -}}
{{- .Values.extraCaCerts.existingConfigMap -}}
{{- else if .Values.extraCaCerts.pem -}}
{{- printf "%s-ca" (include "gateway-triage.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Where the extra CA file is mounted. */}}
{{- define "gateway-triage.caDir" -}}
/etc/gateway-triage/ca
{{- end -}}

{{/* The sha256 of the rendered Secret ("" with existingSecret, whose changes the chart cannot see). */}}
{{- define "gateway-triage.secretChecksum" -}}
{{- if not .Values.existingSecret -}}{{- include (print .Template.BasePath "/secret.yaml") . | sha256sum -}}{{- end -}}
{{- end -}}

{{/* NetworkPolicy egress rules for DNS and Redis, shared by the bot and the workers. */}}
{{- define "gateway-triage.egressDnsRedis" -}}
# DNS, wherever the cluster resolver runs.
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- if .Values.redis.internal.enabled }}
# The in-chart Redis.
- to:
    - podSelector:
        matchLabels:
          {{- include "gateway-triage.selectorLabels" (dict "ctx" . "component" "redis") | nindent 10 }}
  ports:
    - port: 6379
      protocol: TCP
{{- else if include "gateway-triage.redisEnabled" . }}
# The external Redis (its address is not known to the chart, so any host on its port).
- ports:
    - port: {{ include "gateway-triage.redisPort" . | int }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* NetworkPolicy egress rules for probes, from a probeEgress list: one rule per CIDR. */}}
{{- define "gateway-triage.egressProbes" -}}
{{- range $rule := . }}
- to:
    - ipBlock:
        cidr: {{ $rule.cidr }}
        {{- with $rule.except }}
        except:
          {{- toYaml . | nindent 10 }}
        {{- end }}
  {{- with $rule.ports }}
  ports:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}
