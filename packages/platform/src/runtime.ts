import { Redis } from "ioredis";
import type { JSONWebKeySet } from "jose";
import type { Logger } from "pino";
import { grpcTarget, grpcTargetVariable, processNames, processes, type GrpcTargetVariable, type ProcessName } from "@inv/service-catalog";
import { AuditRecordService, type AuditEvent } from "@inv/gen/user/v1/audit_pb";
import { callAudit } from "./audit/calls.js";
import type { AuditOutboxTable } from "./audit/outbox.js";
import { startAuditRelay } from "./audit/relay.js";
import { outboxTrail, type AuditTrail } from "./audit/trail.js";
import { Authenticator } from "./auth/authenticator.js";
import type { AccessControl } from "./auth/interceptor.js";
import type { IdentitySource } from "./auth/principal.js";
import { PrincipalCache } from "./auth/principals.js";
import { remoteIdentitySource, remoteJwks } from "./auth/remote.js";
import { AccessTokenVerifier, ServiceIdentity, ServiceTokenVerifier } from "./auth/tokens.js";
import { createBus, type Bus } from "./bus.js";
import { createCache, type Cache } from "./cache.js";
import { commonConfigProperties, exitOnConfigError, loadConfig, type CommonConfig } from "./config.js";
import { openDatabase, type Db } from "./db.js";
import type { Interceptor, ServiceRegistration } from "./grpc/handler.js";
import type { GrpcChannel } from "./grpc/client.js";
import { PeerChannels, type PeerTargets } from "./grpc/peers.js";
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
  /** SERVICE_SECRET: signs this process's service identity and checks its callers'. */
  serviceSecret: string;
  /**
   * gRPC target of each other process this one calls (`{ user: "dns:///user:50054" }`): every
   * service but the user service needs the user service's at start (it asks who its callers are);
   * the others are read when a process is first called (see ServiceResources.peer), so one map
   * can be filled in while the processes of a cluster start one after another.
   */
  targets?: PeerTargets | undefined;
  /** Prefix of the bus's channel names: tests keep theirs apart on a shared Redis. */
  busNamespace?: string | undefined;
  /** Tests: where the audit relay ships records instead of the user service. */
  auditReceiver?: ((events: AuditEvent[]) => Promise<void>) | undefined;
  /** Tests: a stand-in for the user service's answers (see TestAuthority). */
  identity?: LocalIdentity | undefined;
}

export interface ServiceResources {
  /** The service's database; reading it without having declared one is a programming error. */
  readonly db: Db;
  cache: Cache;
  log: Logger;
  /** Messages to every process of the cluster (Redis pub/sub, or in process). */
  bus: Bus;
  /** A Redis connection when REDIS_URL is set, for what needs Redis itself (e.g. rate limiters); its keys carry the service's cache prefix. */
  redis: Redis | undefined;
  /** This process's service identity, for calls to other services. */
  identity: ServiceIdentity;
  /**
   * The channel to another process of the catalog, at its target in ServiceSettings.targets:
   * made on first use, closed when the service stops. Calls on it carry no credentials of their
   * own: send `x-service-token` (identity.tokenFor(name)) to act as this service, or
   * onBehalfOf(ctx, identity, name) to act for the caller.
   */
  peer(name: ProcessName): GrpcChannel;
}

/** How the user service answers identity questions itself, from its own database. */
export interface LocalIdentity {
  source: IdentitySource;
  jwks: () => Promise<JSONWebKeySet>;
}

export interface ServiceDefinitionOptions {
  /** Process and log name, e.g. "warehouse". */
  name: string;
  /** The service's own schema and migrations; omitted by services that keep no data yet. */
  database?: { schema: string; migrationsFolder: string };
  register(resources: ServiceResources): ServiceRegistration[];
  interceptors?: readonly Interceptor[];
  /** Only the user service: who is behind a credential, from its own data instead of by RPC. */
  identity?: (resources: ServiceResources) => LocalIdentity;
  /**
   * Where this service's audit records go: its outbox table, shipped to the user service by a
   * relay (every service but one), or a trail of its own (the user service, which stores them).
   */
  audit?: { outbox: AuditOutboxTable } | { trail: (resources: ServiceResources) => AuditTrail };
  /**
   * Runs after migrations, before the server takes calls (bootstrap data, background jobs);
   * what it returns runs when the service stops.
   */
  onStart?: (resources: ServiceResources) => Promise<void | (() => Promise<void>)>;
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
  const closers: Closers = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const database = def.database ? await openDatabase({ ...def.database, url: settings.databaseUrl, dataDir: settings.dataDir, log }) : undefined;
    if (database) closers.push(() => database.close());
    const cache = createCache({ redisUrl: settings.redisUrl, prefix: settings.cachePrefix ?? def.name, log });
    closers.push(() => cache.close());
    const bus = createBus({ redisUrl: settings.redisUrl, namespace: settings.busNamespace, log });
    closers.push(() => bus.close());
    // Its keys carry the cache prefix: clusters (and test runs) sharing one Redis stay apart.
    const redis = settings.redisUrl ? new Redis(settings.redisUrl, { maxRetriesPerRequest: 1, keyPrefix: `${settings.cachePrefix ?? def.name}:` }) : undefined;
    if (redis) closers.push(() => void redis.disconnect());
    const identity = await ServiceIdentity.start(def.name, settings.serviceSecret, processNames);
    closers.push(() => identity.close());
    const peers = new PeerChannels(def.name, settings.targets);
    closers.push(() => peers.close());
    const resources: ServiceResources = {
      get db(): Db {
        if (!database) throw new Error(`the ${def.name} service declared no database`);
        return database.db;
      },
      cache,
      log,
      bus,
      redis,
      identity,
      peer: (name) => peers.get(name),
    };
    const audit = auditOf(def, settings, resources, closers);
    const access = { ...accessControl(def, settings, resources, closers), audit: audit?.access };
    const stopJobs = await def.onStart?.(resources);
    if (stopJobs) closers.push(stopJobs);
    await bus.ready();
    const server = await startGrpcServer({
      name: def.name,
      host: settings.host,
      port: settings.port,
      services: def.register(resources),
      log,
      access,
      auditInTransaction: audit?.inTransaction,
      auditOutboxRow: audit?.outboxRow,
      ...(def.interceptors ? { interceptors: def.interceptors } : {}),
    });
    return {
      name: def.name,
      server,
      async stop(graceMs) {
        await server.shutdown(graceMs);
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

type Closers = (() => Promise<void> | void)[];

/**
 * The service's audit trail, wired to its calls: an outbox shipped to the user service by a
 * relay, or the trail the service brings (the user service stores its records itself).
 */
function auditOf(def: ServiceDefinitionOptions, settings: ServiceSettings, resources: ServiceResources, closers: Closers) {
  const declared = def.audit;
  if (!declared) return undefined;
  let trail: AuditTrail;
  if ("trail" in declared) trail = declared.trail(resources);
  else {
    const toUserService = async (events: AuditEvent[]) => {
      const metadata = { "x-service-token": resources.identity.tokenFor("user") };
      await resources.peer("user").unary(AuditRecordService.method.recordAuditEvents, { auditEvents: events }, { metadata });
    };
    const relay = startAuditRelay({ db: resources.db, table: declared.outbox, log: resources.log, send: settings.auditReceiver ?? toUserService });
    closers.push(() => relay.stop());
    trail = outboxTrail({ db: resources.db, table: declared.outbox, onWritten: () => relay.wake() });
  }
  return callAudit(def.name, trail, resources.log);
}

/** The service names whose RPCs only other services may call. */
const internalServices: ReadonlySet<string> = new Set(processes.flatMap((p) => p.services.filter((s) => s.visibility === "internal").map((s) => s.typeName)));

/**
 * Who may call this service: its callers' credentials are checked against the user service's
 * keys and answers (its own, for the user service), cached here and dropped on the bus's word.
 */
function accessControl(def: ServiceDefinitionOptions, settings: ServiceSettings, resources: ServiceResources, closers: Closers): AccessControl {
  let local = settings.identity ?? def.identity?.(resources);
  if (!local) {
    const channel = resources.peer("user");
    local = { source: remoteIdentitySource(channel, resources.identity), jwks: remoteJwks(channel) };
  }
  const principals = new PrincipalCache(local.source, resources.bus);
  closers.push(() => principals.close());
  const authenticator = new Authenticator({
    accessTokens: new AccessTokenVerifier({ jwks: local.jwks }),
    serviceTokens: new ServiceTokenVerifier(def.name, settings.serviceSecret),
    principals,
  });
  return { authenticator, internalServices };
}

type StandaloneConfig = CommonConfig & {
  GRPC_PORT: number;
  GRPC_HOST: string;
  SERVICE_SECRET: string;
} & Partial<Record<GrpcTargetVariable, string>>;

/** What a service run on its own reads from the environment, as settings (without its logger). */
export type StandaloneSettings = Omit<ServiceSettings, "log"> & { logLevel: string; targets: PeerTargets };

/**
 * The settings of one service in its own process, from the environment: where it listens, its
 * stores, SERVICE_SECRET, and `<NAME>_GRPC_TARGET` of every other process of the catalog (by
 * default the process's catalog port on 127.0.0.1); a bad variable is named in the error.
 */
export function loadStandaloneSettings(name: string, defaultPort: number, env: NodeJS.ProcessEnv = process.env): StandaloneSettings {
  const others = processes.filter((p) => p.name !== name);
  const targetProperties = Object.fromEntries(
    others.map((p) => [grpcTargetVariable(p.name), { type: "string", minLength: 1, default: grpcTarget(p, "127.0.0.1") }]),
  );
  const schema = {
    type: "object",
    properties: {
      ...commonConfigProperties,
      GRPC_PORT: { type: "integer", minimum: 0, maximum: 65535, default: defaultPort },
      GRPC_HOST: { type: "string", minLength: 1, default: "0.0.0.0" },
      SERVICE_SECRET: { type: "string", minLength: 32 },
      ...targetProperties,
    },
    required: ["LOG_LEVEL", "DATA_DIR", "GRPC_PORT", "GRPC_HOST", "SERVICE_SECRET", ...others.map((p) => grpcTargetVariable(p.name))],
    additionalProperties: false,
  };
  // The target properties are built from the catalog, which ajv's schema type cannot follow.
  const config = loadConfig<StandaloneConfig>(schema as unknown as Parameters<typeof loadConfig<StandaloneConfig>>[0], env);
  const targets: PeerTargets = Object.fromEntries(others.map((p) => [p.name, config[grpcTargetVariable(p.name)]]));
  return {
    port: config.GRPC_PORT,
    host: config.GRPC_HOST,
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    redisUrl: config.REDIS_URL,
    logLevel: config.LOG_LEVEL,
    serviceSecret: config.SERVICE_SECRET,
    targets,
  };
}

/**
 * The entry point of one service in its own process (compose, Fargate): typed config from the
 * environment, then serve until SIGTERM or SIGINT, draining in-flight calls before exit.
 */
export async function runStandalone(def: ServiceDefinitionOptions, defaultPort: number): Promise<void> {
  try {
    const { logLevel, ...settings } = loadStandaloneSettings(def.name, defaultPort);
    const log = createLogger(def.name, logLevel);
    const service = await startService(def, { ...settings, log });
    onShutdownSignal(log, () => service.stop());
  } catch (err) {
    // A service's own settings are read as it starts (the user service's, say): one line for those too.
    exitOnConfigError(def.name, err);
  }
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
