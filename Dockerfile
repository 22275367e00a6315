# One image for every process; compose and ECS pick the entry point with `command`.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# The manifests first: the dependency layer is rebuilt only when one of them or the lockfile
# changes, not on every change of the sources.
COPY package.json package-lock.json ./
COPY gen/package.json gen/
COPY packages/platform/package.json packages/platform/
COPY packages/service-catalog/package.json packages/service-catalog/
COPY apps/cluster/package.json apps/cluster/
COPY services/inventory/package.json services/inventory/
COPY services/reservation/package.json services/reservation/
COPY services/user/package.json services/user/
COPY services/warehouse/package.json services/warehouse/
COPY edge/package.json edge/
COPY infra-pulumi/package.json infra-pulumi/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run generate && npm run typecheck && npm prune --omit=dev

FROM node:22-bookworm-slim
# curl runs the health checks (scripts/grpc-health.sh, the edge's /healthz): ~10 ms and 11 MB a
# run. tini is PID 1: it forwards SIGTERM to node and reaps what node leaves behind.
RUN apt-get update \
  && apt-get install -y --no-install-recommends curl tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 8080 50051 50052 50053 50054
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "apps/cluster/src/main.ts"]
