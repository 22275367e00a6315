import { processOf, publicServices, serviceProcesses, type ProcessName } from "@inv/api";
import { startEdge, type RunningEdge } from "@inv/edge";
import { inventoryServiceDefinition } from "@inv/inventory-service";
import { startService, type Logger, type RunningService, type ServiceDefinitionOptions } from "@inv/platform";
import { reservationServiceDefinition } from "@inv/reservation-service";
import { userServiceDefinition } from "@inv/user-service";
import { warehouseServiceDefinition } from "@inv/warehouse-service";

/** The implementation of each service process, by its catalog name. */
export const definitions: Record<ProcessName, ServiceDefinitionOptions> = {
  warehouse: warehouseServiceDefinition,
  inventory: inventoryServiceDefinition,
  reservation: reservationServiceDefinition,
  user: userServiceDefinition,
};

export interface ClusterSettings {
  host: string;
  httpPort: number;
  /** gRPC port of each process; 0 picks a free one. */
  grpcPorts: Record<ProcessName, number>;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  redisUrl?: string | undefined;
  /** Prefix of cache keys, so clusters sharing one Redis stay apart. */
  cachePrefix?: string;
  log: Logger;
}

export interface RunningCluster {
  readonly edge: RunningEdge;
  readonly services: readonly RunningService[];
  stop(): Promise<void>;
}

/**
 * Every service on its own gRPC port and the edge on HTTP, in one process: the same entry
 * points compose and Fargate run one per container.
 */
export async function startCluster(settings: ClusterSettings): Promise<RunningCluster> {
  const services: RunningService[] = [];
  try {
    for (const entry of serviceProcesses) {
      services.push(
        await startService(definitions[entry.name], {
          port: settings.grpcPorts[entry.name],
          host: settings.host,
          databaseUrl: settings.databaseUrl,
          dataDir: settings.dataDir,
          redisUrl: settings.redisUrl,
          cachePrefix: `${settings.cachePrefix ?? ""}${entry.name}`,
          log: settings.log.child({ service: entry.name }),
        }),
      );
    }
    const addressOf = Object.fromEntries(services.map((s) => [s.name, s.server.address]));
    const edge = await startEdge({
      port: settings.httpPort,
      host: settings.host,
      services: publicServices,
      targetOf: (service) => `dns:///${addressOf[processOf(service).name]}`,
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
