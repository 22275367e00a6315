import { randomBytes } from "node:crypto";
import { createScratchDatabase, testRedisUrl } from "@inv/platform/testing";
import { perProcess, type ProcessName } from "@inv/service-catalog";
import { pino } from "pino";
import { startCluster, type RunningCluster } from "./index.js";

export interface TestCluster extends RunningCluster {
  /** The edge's base URL, e.g. http://127.0.0.1:40123. */
  readonly baseUrl: string;
  /** host:port of each service process. */
  readonly grpc: Record<ProcessName, string>;
}

/**
 * The third tier of tests: the whole cluster, every process of the catalog on a free port behind
 * the edge, over this file's own database (or in-memory PGlite) and real Redis when TEST_REDIS_URL is set.
 */
export async function startTestCluster(): Promise<TestCluster> {
  const scratch = await createScratchDatabase("cluster");
  const cluster = await startCluster({
    host: "127.0.0.1",
    httpPort: 0,
    grpcPorts: perProcess(
      (name) => name,
      () => 0,
    ),
    databaseUrl: scratch.url,
    redisUrl: testRedisUrl(),
    cachePrefix: `test:${randomBytes(4).toString("hex")}:`,
    log: pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" }),
  });
  const addressOf = new Map(cluster.services.map((s) => [s.name, s.server.address]));
  return {
    ...cluster,
    baseUrl: cluster.edge.url,
    grpc: perProcess(
      (name) => name,
      (p) => addressOf.get(p.name) ?? "",
    ),
    async stop() {
      await cluster.stop();
      await scratch.drop();
    },
  };
}
