# One image for every process; compose and ECS pick the entry point with `command`.
# The base is Node 22 LTS, pinned by digest so that a rebuild gets the same bytes; bump the
# digest on purpose (docker buildx imagetools inspect node:22-bookworm-slim) together with the tag.
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The manifests first: the dependency layer is rebuilt only when one of them or the lockfile
# changes, not on every change of the sources.
COPY package.json package-lock.json ./
COPY gen/package.json gen/
COPY packages/platform/package.json packages/platform/
COPY packages/service-catalog/package.json packages/service-catalog/
COPY packages/build/package.json packages/build/
COPY apps/cluster/package.json apps/cluster/
COPY apps/migrate/package.json apps/migrate/
COPY services/inventory/package.json services/inventory/
COPY services/reservation/package.json services/reservation/
COPY services/user/package.json services/user/
COPY services/warehouse/package.json services/warehouse/
COPY edge/package.json edge/
COPY infra-pulumi/package.json infra-pulumi/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund
COPY . .
# Generated code, a full typecheck, then every program compiled ahead of time into its dist/
# (npm run build), and the dev dependencies dropped.
RUN npm run generate && npm run typecheck && npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
# curl runs the health checks (scripts/grpc-health.sh, the edge's /healthz): ~10 ms and 11 MB a
# run. tini is PID 1: it forwards SIGTERM to node and reaps what node leaves behind.
RUN apt-get update \
  && apt-get install -y --no-install-recommends curl tini \
  && rm -rf /var/lib/apt/lists/*
# The CA bundle of Amazon RDS, so a task connects with sslmode=verify-full (NODE_EXTRA_CA_CERTS
# points at it in the tasks that talk to Postgres).
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /app/certs/rds-global-bundle.pem
WORKDIR /app
RUN chown node:node /app
ENV NODE_ENV=production
# Only what the programs run: each one's compiled module and manifest (its "type"), the
# services' migrations, the descriptor set (reflection, the edge's docs), the production
# node_modules and the health probe. No TypeScript, no tests, no dev tools.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules/
COPY --from=build /app/gen/package.json /app/gen/descriptors.binpb gen/
COPY --from=build /app/services/warehouse/package.json services/warehouse/
COPY --from=build /app/services/warehouse/dist services/warehouse/dist/
COPY --from=build /app/services/warehouse/drizzle services/warehouse/drizzle/
COPY --from=build /app/services/inventory/package.json services/inventory/
COPY --from=build /app/services/inventory/dist services/inventory/dist/
COPY --from=build /app/services/inventory/drizzle services/inventory/drizzle/
COPY --from=build /app/services/reservation/package.json services/reservation/
COPY --from=build /app/services/reservation/dist services/reservation/dist/
COPY --from=build /app/services/reservation/drizzle services/reservation/drizzle/
COPY --from=build /app/services/user/package.json services/user/
COPY --from=build /app/services/user/dist services/user/dist/
COPY --from=build /app/services/user/drizzle services/user/drizzle/
COPY --from=build /app/edge/package.json edge/
COPY --from=build /app/edge/dist edge/dist/
COPY --from=build /app/apps/cluster/package.json apps/cluster/
COPY --from=build /app/apps/cluster/dist apps/cluster/dist/
COPY --from=build /app/apps/migrate/package.json apps/migrate/
COPY --from=build /app/apps/migrate/dist apps/migrate/dist/
COPY --from=build /app/scripts/grpc-health.sh scripts/
USER node
EXPOSE 8080 50051 50052 50053 50054
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "apps/cluster/dist/main.js"]
