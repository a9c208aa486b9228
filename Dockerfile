# syntax=docker/dockerfile:1
# Gateway Triage: one image for the Slack bot / HTTP API and the probe workers.
#   bot + API (default): node dist/main.js      (PORT, default 3000)
#   probe worker:        node dist/worker.js    (METRICS_PORT, default 9464)
#   CLI:                 node dist/cli.js …     (the `triage` command)
# Build: docker build -t gateway-triage:0.1.0 .
#    or: sudo bash scripts/build-image.sh   (buildah, no daemon; then a smoke run of the image)

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install everything, compile TypeScript, the knowledge snapshot and the CLI bundle, then drop the dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/knowledge-snapshot.js scripts/bundle-cli.js ./scripts/
COPY src ./src
COPY knowledge ./knowledge
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: the compiled app, the knowledge base and production node_modules only ----
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="gateway-triage" \
      org.opencontainers.image.description="Slack bot, HTTP API and probe workers that diagnose proxy and gateway failures" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="UNLICENSED"
# TRIAGE_DAEMON=manual: a `triage` run in the pod (kubectl exec) does not leave a daemon behind
# inside the bot's memory limit; `triage daemon start` still starts one on purpose.
ENV NODE_ENV=production \
    PORT=3000 \
    TRIAGE_DAEMON=manual
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root knowledge ./knowledge
# The files belong to root and are read-only to the app; it runs as node (uid 1000), and Kubernetes
# may add readOnlyRootFilesystem (the app writes nothing but /tmp).
USER 1000:1000
EXPOSE 3000 9464
CMD ["node", "dist/main.js"]
