import { randomBytes } from "node:crypto";
import { DEFAULT_RATE_LIMITS, startEdge, type RunningEdge } from "@inv/edge";
import { startService, type Logger, type PeerTargets, type RunningService } from "@inv/platform";
import type { ProcessName } from "@inv/service-catalog";
import { processOf, publicServices, serviceProcesses } from "@inv/service-catalog/descriptors";
import { definitions } from "./definitions.js";

export { definitions } from "./definitions.js";

export interface ClusterSettings {
  host: string;
  httpPort: number;
  /** gRPC port of each process; 0 picks a free one. */
  grpcPorts: Record<ProcessName, number>;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  redisUrl?: string | undefined;
  /** Prefix of cache keys and bus channels, so clusters sharing one Redis stay apart. */
  cachePrefix?: string;
  /** SERVICE_SECRET; one in one process needs no one else to know it, so by default a random one per start. */
  serviceSecret?: string | undefined;
  log: Logger;
}

/** A running service process, named as in the catalog. */
export interface RunningProcess extends RunningService {
  readonly name: ProcessName;
}

export interface RunningCluster {
  readonly edge: RunningEdge;
  readonly services: readonly RunningProcess[];
  stop(): Promise<void>;
}

/**
 * Every service on its own gRPC port and the edge on HTTP, in one process: the same entry
 * points compose and Fargate run one per container.
 */
export async function startCluster(settings: ClusterSettings): Promise<RunningCluster> {
  const services: RunningProcess[] = [];
  const serviceSecret = settings.serviceSecret ?? randomBytes(32).toString("base64url");
  // The user service first: every other process asks it who its callers are as it starts.
  const order = [...serviceProcesses].sort((a, b) => Number(b.name === "user") - Number(a.name === "user"));
  // Where each process listens, filled in as they come up (ports may be 0). Every process gets
  // this one map: a process reads another's target when it first calls it, so processes that
  // call each other (warehouse and inventory) find each other whichever started first.
  const targets: PeerTargets = {};
  try {
    for (const { name } of order) {
      const running = await startService(definitions[name], {
        port: settings.grpcPorts[name],
        host: settings.host,
        databaseUrl: settings.databaseUrl,
        dataDir: settings.dataDir,
        redisUrl: settings.redisUrl,
        cachePrefix: `${settings.cachePrefix ?? ""}${name}`,
        busNamespace: settings.cachePrefix,
        log: settings.log.child({ service: name }),
        serviceSecret,
        targets,
      });
      targets[name] = `dns:///${running.server.address}`;
      services.push({ name, server: running.server, stop: (graceMs) => running.stop(graceMs) });
    }
    const edge = await startEdge({
      port: settings.httpPort,
      host: settings.host,
      services: publicServices,
      targetOf: (service) => targets[processOf(service).name]!,
      processOf: (service) => processOf(service).name,
      processNames: serviceProcesses.map((p) => p.name),
      serviceSecret,
      rateLimits: { ...DEFAULT_RATE_LIMITS, redisUrl: settings.redisUrl, keyPrefix: `${settings.cachePrefix ?? ""}edge:rl` },
      log: settings.log.child({ service: "edge" }),
      corsOrigins: ["*"],
      upstreamDeadlineMs: 10_000,
    });
    return {
      edge,
      services,
      async stop() {
        await edge.stop();
        await Promise.all(services.map((s) => s.stop(5_000)));
      },
    };
  } catch (err) {
    await Promise.all(services.map((s) => s.stop(0)));
    throw err;
  }
}
