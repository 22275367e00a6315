import { randomBytes } from "node:crypto";
import type { ProcessName } from "@inv/api";
import { createScratchDatabase, testRedisUrl } from "@inv/platform/testing";
import { pino } from "pino";
import { startCluster, type RunningCluster } from "./index.js";

export interface TestCluster extends RunningCluster {
  /** The edge's base URL, e.g. http://127.0.0.1:40123. */
  readonly baseUrl: string;
  /** host:port of each service process. */
  readonly grpc: Record<ProcessName, string>;
}

/**
 * The third tier of tests: the whole cluster, every service on a free port behind the edge,
 * over this file's own database (or in-memory PGlite) and real Redis when TEST_REDIS_URL is set.
 */
export async function startTestCluster(): Promise<TestCluster> {
  const scratch = await createScratchDatabase("cluster");
  const cluster = await startCluster({
    host: "127.0.0.1",
    httpPort: 0,
    grpcPorts: { warehouse: 0, inventory: 0, reservation: 0, user: 0 },
    databaseUrl: scratch.url,
    redisUrl: testRedisUrl(),
    cachePrefix: `test:${randomBytes(4).toString("hex")}:`,
    log: pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" }),
  });
  return {
    ...cluster,
    baseUrl: cluster.edge.url,
    grpc: Object.fromEntries(cluster.services.map((s) => [s.name, s.server.address])) as Record<ProcessName, string>,
    async stop() {
      await cluster.stop();
      await scratch.drop();
    },
  };
}
