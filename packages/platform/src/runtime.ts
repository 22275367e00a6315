import type { Logger } from "pino";
import { createCache, type Cache } from "./cache.js";
import { commonConfigProperties, loadConfig, type CommonConfig } from "./config.js";
import { openDatabase, type Db } from "./db.js";
import type { Interceptor, ServiceRegistration } from "./grpc/handler.js";
import { startGrpcServer, type RunningGrpcServer } from "./grpc/server.js";
import { createLogger } from "./log.js";

/** Where a service process finds its database, cache and port. */
export interface ServiceSettings {
  port: number;
  host?: string | undefined;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  redisUrl?: string | undefined;
  /** Prefix of this service's cache keys; the service name by default. */
  cachePrefix?: string | undefined;
  log: Logger;
}

export interface ServiceResources {
  /** The service's database; reading it without having declared one is a programming error. */
  readonly db: Db;
  cache: Cache;
  log: Logger;
}

export interface ServiceDefinitionOptions {
  /** Process and log name, e.g. "warehouse". */
  name: string;
  /** The service's own schema and migrations; omitted by services that keep no data yet. */
  database?: { schema: string; migrationsFolder: string };
  register(resources: ServiceResources): ServiceRegistration[];
  interceptors?: readonly Interceptor[];
}

export interface RunningService {
  readonly name: string;
  readonly server: RunningGrpcServer;
  /** Drains calls, then closes the cache and the database. */
  stop(graceMs?: number): Promise<void>;
}

/** Opens a service's database and cache, then serves its gRPC services with health and reflection. */
export async function startService(def: ServiceDefinitionOptions, settings: ServiceSettings): Promise<RunningService> {
  const log = settings.log;
  const database = def.database ? await openDatabase({ ...def.database, url: settings.databaseUrl, dataDir: settings.dataDir, log }) : undefined;
  const cache = createCache({ redisUrl: settings.redisUrl, prefix: settings.cachePrefix ?? def.name, log });
  try {
    const services = def.register({
      get db(): Db {
        if (!database) throw new Error(`the ${def.name} service declared no database`);
        return database.db;
      },
      cache,
      log,
    });
    const server = await startGrpcServer({
      name: def.name,
      host: settings.host,
      port: settings.port,
      services,
      log,
      ...(def.interceptors ? { interceptors: def.interceptors } : {}),
    });
    return {
      name: def.name,
      server,
      async stop(graceMs) {
        await server.shutdown(graceMs);
        await cache.close();
        await database?.close();
      },
    };
  } catch (err) {
    await cache.close();
    await database?.close();
    throw err;
  }
}

interface StandaloneConfig extends CommonConfig {
  GRPC_PORT: number;
  GRPC_HOST: string;
}

/**
 * The entry point of one service in its own process (compose, Fargate): typed config from the
 * environment, then serve until SIGTERM or SIGINT, draining in-flight calls before exit.
 */
export async function runStandalone(def: ServiceDefinitionOptions, defaultPort: number): Promise<void> {
  const config = loadConfig<StandaloneConfig>({
    type: "object",
    properties: {
      ...commonConfigProperties,
      GRPC_PORT: { type: "integer", minimum: 0, maximum: 65535, default: defaultPort },
      GRPC_HOST: { type: "string", minLength: 1, default: "0.0.0.0" },
    },
    required: ["LOG_LEVEL", "DATA_DIR", "GRPC_PORT", "GRPC_HOST"],
    additionalProperties: false,
  });
  const log = createLogger(def.name, config.LOG_LEVEL);
  const service = await startService(def, {
    port: config.GRPC_PORT,
    host: config.GRPC_HOST,
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    redisUrl: config.REDIS_URL,
    log,
  });
  onShutdownSignal(log, () => service.stop());
}

/** Calls stop once on SIGTERM/SIGINT, then exits; a second signal exits at once. */
export function onShutdownSignal(log: Logger, stop: () => Promise<void>) {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, "shutting down");
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}
