# One image for every process; compose and ECS pick the entry point with `command`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run generate && npm run typecheck && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
USER node
EXPOSE 8080 50051 50052 50053 50054
CMD ["node", "--import", "tsx", "apps/cluster/src/main.ts"]
