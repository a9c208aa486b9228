{{/*
Cross-key checks that values.schema.json cannot express. Every problem is collected and the
render fails once, listing each with what to do (templates/validate.yaml calls this first).
*/}}

{{/* Fails the render with every problem of the values, or returns nothing. */}}
{{- define "gateway-triage.validate" -}}
{{- $v := .Values -}}
{{- $m := list -}}
{{- $redis := include "gateway-triage.redisEnabled" . -}}
{{- $own := not $v.existingSecret -}}

{{- /* Slack mode and its tokens */ -}}
{{- if and $own (ne $v.slack.mode "none") (not $v.slack.botToken) -}}
{{- $m = append $m (printf "slack.botToken: slack.mode is %s but no bot token is set: set slack.botToken=xoxb-… (OAuth & Permissions page), or existingSecret to a Secret with SLACK_BOT_TOKEN" $v.slack.mode) -}}
{{- end -}}
{{- if and $own (eq $v.slack.mode "socket") (not $v.slack.appToken) -}}
{{- $m = append $m "slack.appToken: Socket Mode needs an app-level token: set slack.appToken=xapp-… (Basic Information → App-Level Tokens, scope connections:write), or existingSecret with SLACK_APP_TOKEN, or use slack.mode=http" -}}
{{- end -}}
{{- if and $own (eq $v.slack.mode "http") (not $v.slack.signingSecret) -}}
{{- $m = append $m "slack.signingSecret: HTTP mode needs the signing secret: set slack.signingSecret (Basic Information → App Credentials), or existingSecret with SLACK_SIGNING_SECRET" -}}
{{- end -}}
{{- if and $own (eq $v.slack.mode "none") (not $v.api.tokens) -}}
{{- $m = append $m "api.tokens: slack.mode is none, so the HTTP API is the only way in and needs bearer tokens: set api.tokens (e.g. openssl rand -hex 32), or existingSecret with API_TOKENS" -}}
{{- end -}}
{{- if and (eq $v.slack.mode "socket") $v.slack.signingSecret -}}
{{- $m = append $m "slack.signingSecret is set but slack.mode is socket, which does not use it: remove it, or set slack.mode=http" -}}
{{- end -}}
{{- if and (eq $v.slack.mode "http") $v.slack.appToken -}}
{{- $m = append $m "slack.appToken is set but slack.mode is http; the app would switch to Socket Mode: remove it, or set slack.mode=socket" -}}
{{- end -}}
{{- if and (eq $v.slack.mode "none") (or $v.slack.botToken $v.slack.appToken $v.slack.signingSecret $v.slack.watchChannels $v.slack.alertChannels $v.slack.alertmanagerChannel) -}}
{{- $m = append $m "slack.*: slack.mode is none but Slack settings are set: set slack.mode to socket or http, or remove them" -}}
{{- end -}}
{{- if $v.existingSecret -}}
{{- range $k := list "botToken" "appToken" "signingSecret" -}}
{{- if index $v.slack $k -}}
{{- $m = append $m (printf "slack.%s and existingSecret are both set: the chart reads tokens from %s only; put the value in that Secret and remove slack.%s" $k $v.existingSecret $k) -}}
{{- end -}}
{{- end -}}
{{- if $v.api.tokens -}}
{{- $m = append $m (printf "api.tokens and existingSecret are both set: put API_TOKENS in %s and remove api.tokens" $v.existingSecret) -}}
{{- end -}}
{{- if $v.queue.secret -}}
{{- $m = append $m (printf "queue.secret and existingSecret are both set: put QUEUE_SECRET in %s and remove queue.secret" $v.existingSecret) -}}
{{- end -}}
{{- end -}}

{{- /* Channels */ -}}
{{- range $c := $v.slack.watchChannels -}}
{{- if has $c $v.slack.alertChannels -}}
{{- $m = append $m (printf "%s is in both slack.watchChannels and slack.alertChannels: an alert channel already answers alerts; list it in one of them" $c) -}}
{{- end -}}
{{- end -}}
{{- if and $v.slack.alertChannels (not $redis) -}}
{{- $m = append $m "slack.alertChannels needs Redis (which alerts were answered is kept there): set redis.url, redis.fromExistingSecret=true or redis.internal.enabled=true, or empty slack.alertChannels" -}}
{{- end -}}

{{- /* Redis */ -}}
{{- $sources := 0 -}}
{{- if $v.redis.url -}}{{- $sources = add1 $sources -}}{{- end -}}
{{- if $v.redis.fromExistingSecret -}}{{- $sources = add1 $sources -}}{{- end -}}
{{- if $v.redis.internal.enabled -}}{{- $sources = add1 $sources -}}{{- end -}}
{{- if gt $sources 1 -}}
{{- $m = append $m "redis: choose one of redis.url, redis.fromExistingSecret and redis.internal.enabled" -}}
{{- end -}}
{{- if and $v.redis.url $v.existingSecret -}}
{{- $m = append $m (printf "redis.url and existingSecret are both set: the URL may hold a password, so put REDIS_URL in %s and set redis.fromExistingSecret=true instead of redis.url" $v.existingSecret) -}}
{{- end -}}
{{- if and $v.redis.fromExistingSecret (not $v.existingSecret) -}}
{{- $m = append $m "redis.fromExistingSecret needs existingSecret: name the Secret that holds REDIS_URL, or set redis.url" -}}
{{- end -}}
{{- if and $redis $own (not $v.queue.secret) -}}
{{- $m = append $m "queue.secret: probe jobs go through Redis, and their headers and proxy credentials must be sealed: set queue.secret (e.g. openssl rand -hex 32), or existingSecret with QUEUE_SECRET" -}}
{{- end -}}
{{- if and $v.workers.enabled (not $redis) -}}
{{- $m = append $m "workers.enabled needs Redis, the queue between the bot and the workers: set redis.url, redis.fromExistingSecret=true (with existingSecret) or redis.internal.enabled=true, or set workers.enabled=false to run probes inside the bot" -}}
{{- end -}}

{{- /* Worker pools, KEDA and autoscaling */ -}}
{{- if $v.workers.enabled -}}
{{- $names := list -}}
{{- range $pool := $v.workers.pools -}}
{{- if has $pool.name $names -}}
{{- $m = append $m (printf "workers.pools: the pool name %q appears twice: each pool is one Deployment and one queue (probes-%s); give every pool its own name" $pool.name $pool.name) -}}
{{- end -}}
{{- $names = append $names $pool.name -}}
{{- $full := printf "%s-worker-%s" (include "gateway-triage.fullname" $) $pool.name -}}
{{- if gt (len $full) 63 -}}
{{- $m = append $m (printf "workers.pools: %q is longer than 63 characters: shorten the pool name, the release name or fullnameOverride" $full) -}}
{{- end -}}
{{- $p := fromYaml (include "gateway-triage.pool" (dict "ctx" $ "pool" $pool)) -}}
{{- if and $p.keda.enabled $p.autoscaling.enabled -}}
{{- $m = append $m (printf "workers.pools[%s]: keda.enabled and autoscaling.enabled are both on; KEDA makes its own HorizontalPodAutoscaler: turn one off" $pool.name) -}}
{{- end -}}
{{- if and $p.keda.enabled (lt (int $p.keda.maxReplicaCount) (int $p.keda.minReplicaCount)) -}}
{{- $m = append $m (printf "workers.pools[%s]: keda.maxReplicaCount is below keda.minReplicaCount" $pool.name) -}}
{{- end -}}
{{- if and $p.autoscaling.enabled (lt (int $p.autoscaling.maxReplicas) (int $p.autoscaling.minReplicas)) -}}
{{- $m = append $m (printf "workers.pools[%s]: autoscaling.maxReplicas is below autoscaling.minReplicas" $pool.name) -}}
{{- end -}}
{{- if and $p.keda.enabled (not (include "gateway-triage.kedaRedisAddress" $)) -}}
{{- if $redis -}}
{{- $m = append $m (printf "workers.pools[%s]: KEDA needs the Redis address, which the chart cannot read from existingSecret: set keda.redis.address=host:port" $pool.name) -}}
{{- else -}}
{{- $m = append $m (printf "workers.pools[%s]: KEDA is on but there is no Redis address to watch: set redis.url or redis.internal.enabled=true (or keda.redis.address with redis.fromExistingSecret)" $pool.name) -}}
{{- end -}}
{{- end -}}
{{- if and $p.keda.enabled (contains "%" (include "gateway-triage.redisUserinfo" $)) -}}
{{- $m = append $m "redis.url: the password is percent-encoded, which KEDA cannot decode: put REDIS_URL and REDIS_PASSWORD (plain) in existingSecret and set redis.fromExistingSecret=true, keda.redis.address and keda.redis.passwordFromExistingSecret=true" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.keda.redis.passwordFromExistingSecret (not $v.existingSecret) -}}
{{- $m = append $m "keda.redis.passwordFromExistingSecret needs existingSecret (with a REDIS_PASSWORD key)" -}}
{{- end -}}
{{- if and $v.bot.autoscaling.enabled (lt (int $v.bot.autoscaling.maxReplicas) (int $v.bot.autoscaling.minReplicas)) -}}
{{- $m = append $m "bot.autoscaling.maxReplicas is below bot.autoscaling.minReplicas" -}}
{{- end -}}

{{- /* Ingress and HTTP mode */ -}}
{{- if and $v.ingress.enabled (not $v.ingress.hosts) -}}
{{- $m = append $m (printf "ingress.hosts: the Ingress is on but has no host; Slack needs a public Request URL https://<host>/slack/events: set ingress.hosts={triage.example.com}%s" (ternary "" " or ingress.enabled=false" (eq $v.slack.mode "http"))) -}}
{{- end -}}

{{- /* Knowledge overrides: flat files whose id matches the file name */ -}}
{{- range $file, $text := $v.knowledge.overrides -}}
{{- $doc := fromYaml $text -}}
{{- $stem := regexReplaceAll "\\.ya?ml$" $file "" -}}
{{- if hasKey $doc "Error" -}}
{{- $m = append $m (printf "knowledge.overrides[%s] is not YAML (%s): fix the text" $file (index $doc "Error")) -}}
{{- else if ne (dig "id" "" $doc | toString) $stem -}}
{{- $m = append $m (printf "knowledge.overrides[%s]: the entry's id is %q but the file is named %s: name the file <id>.yaml (the loader requires it)" $file (dig "id" "" $doc | toString) $file) -}}
{{- end -}}
{{- end -}}

{{- /* Extra CA certificates */ -}}
{{- if and $v.extraCaCerts.pem $v.extraCaCerts.existingConfigMap -}}
{{- $m = append $m "extraCaCerts: set pem or existingConfigMap, not both" -}}
{{- end -}}

{{- if $m -}}
{{- fail (printf "\n\ngateway-triage: %d problem(s) in the values; fix them and render again:\n  - %s\n" (len $m) (join "\n  - " $m)) -}}
{{- end -}}
{{- end -}}
