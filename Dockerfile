# One image for every process; compose and ECS pick the entry point with `command`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run generate && npm run typecheck && npm prune --omit=dev

FROM node:20-bookworm-slim
# curl runs the health checks (scripts/grpc-health.sh, the edge's /healthz): ~10 ms and 11 MB a run.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
USER node
EXPOSE 8080 50051 50052 50053 50054
CMD ["node", "--import", "tsx", "apps/cluster/src/main.ts"]
