import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { pino } from "pino";
import { GrpcChannel, createGrpcClient, type GrpcClient } from "../grpc/client.js";
import { startService, type RunningService, type ServiceDefinitionOptions } from "../runtime.js";
import { createScratchDatabase } from "./database.js";
import { testRedisUrl } from "./redis.js";

export interface TestService {
  readonly service: RunningService;
  readonly address: string;
  readonly channel: GrpcChannel;
  client<S extends DescService>(desc: S): GrpcClient<S>;
  stop(): Promise<void>;
}

/**
 * The second tier of tests: a service over a real database (its own scratch database, or
 * in-memory PGlite) and real Redis when TEST_REDIS_URL is set, called through a real gRPC
 * client on a free port.
 */
export async function startTestService(def: ServiceDefinitionOptions): Promise<TestService> {
  const scratch = await createScratchDatabase(def.name);
  const service = await startService(def, {
    port: 0,
    host: "127.0.0.1",
    databaseUrl: scratch.url,
    redisUrl: testRedisUrl(),
    cachePrefix: `test:${def.name}:${randomBytes(4).toString("hex")}`,
    log: pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" }),
  });
  const channel = new GrpcChannel(`dns:///${service.server.address}`, { deadlineMs: 30_000 });
  return {
    service,
    address: service.server.address,
    channel,
    client: (desc) => createGrpcClient(desc, channel),
    async stop() {
      channel.close();
      await service.stop(1_000);
      await scratch.drop();
    },
  };
}
