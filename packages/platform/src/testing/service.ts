import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import type { AuditEvent } from "@inv/gen/user/v1/audit_pb";
import { pino } from "pino";
import { GrpcChannel, createGrpcClient, type GrpcClient } from "../grpc/client.js";
import type { PeerTargets } from "../grpc/peers.js";
import type { Db } from "../db.js";
import { startService, type RunningService, type ServiceDefinitionOptions, type ServiceResources } from "../runtime.js";
import { TestAuthority } from "./auth.js";
import { createScratchDatabase } from "./database.js";
import { testRedisUrl } from "./redis.js";

export interface TestService {
  readonly service: RunningService;
  readonly address: string;
  /** Its gRPC target, `dns:///<address>`: what another service's `targets` names it by. */
  readonly target: string;
  /** A channel whose calls carry an access token with every permission ("*"). */
  readonly channel: GrpcChannel;
  /** Signs the tokens the service accepts, unless the service answers identity itself (user). */
  readonly authority: TestAuthority;
  /** The admin token the default channel sends. */
  readonly adminToken: string;
  /** The audit records the service shipped (its relay sends here instead of to the user service). */
  readonly auditEvents: AuditEvent[];
  /** The service's own database, for checks made straight in it (a service that declares none throws). */
  readonly db: Db;
  /** A client whose calls carry the admin token. */
  client<S extends DescService>(desc: S): GrpcClient<S>;
  /** A client whose calls carry exactly this metadata (e.g. {} for anonymous, { authorization: "Bearer …" }). */
  clientWith<S extends DescService>(desc: S, metadata: Record<string, string>): GrpcClient<S>;
  stop(): Promise<void>;
}

export interface TestServiceOptions {
  /** SERVICE_SECRET for the service (random by default), to mint service identities in tests. */
  serviceSecret?: string;
  /** Use the service's own identity answers (the user service) instead of a TestAuthority. */
  ownIdentity?: boolean;
  /** Share another test service's authority, so the same tokens work at both (one user service for several services). */
  authority?: TestAuthority;
  /** The bus's channel prefix (random by default); give two services the same one to let them hear each other. */
  busNamespace?: string;
  /**
   * Where the other processes it calls are (ServiceSettings.targets), read when it first calls
   * one: two services that call each other can share one map, filled in once both have started.
   * Give them the same serviceSecret too, so each accepts the other's service identity.
   */
  targets?: PeerTargets;
}

/**
 * The second tier of tests: a service over a real database (its own scratch database, or
 * in-memory PGlite) and real Redis when TEST_REDIS_URL is set, called through a real gRPC
 * client on a free port.
 */
export async function startTestService(def: ServiceDefinitionOptions, opts: TestServiceOptions = {}): Promise<TestService> {
  const scratch = await createScratchDatabase(def.name);
  const authority = opts.authority ?? (await TestAuthority.create());
  const auditEvents: AuditEvent[] = [];
  const adminToken = await authority.issue({ permissions: ["*"], roles: ["admin"], username: "test-admin" });
  // What the service was handed when it registered its handlers: its database, for the tests.
  let resources: ServiceResources | undefined;
  const capturing: ServiceDefinitionOptions = {
    ...def,
    register: (given) => {
      resources = given;
      return def.register(given);
    },
  };
  const service = await startService(capturing, {
    port: 0,
    host: "127.0.0.1",
    databaseUrl: scratch.url,
    redisUrl: testRedisUrl(),
    cachePrefix: `test:${def.name}:${randomBytes(4).toString("hex")}`,
    log: pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" }),
    serviceSecret: opts.serviceSecret ?? randomBytes(32).toString("hex"),
    identity: opts.ownIdentity ? undefined : authority,
    auditReceiver: async (events) => void auditEvents.push(...events),
    busNamespace: opts.busNamespace ?? `test:${randomBytes(4).toString("hex")}:`,
    targets: opts.targets,
  });
  const target = `dns:///${service.server.address}`;
  const channels: GrpcChannel[] = [];
  const channelWith = (metadata: Record<string, string>) => {
    const channel = new GrpcChannel(target, { deadlineMs: 30_000, metadata: () => metadata });
    channels.push(channel);
    return channel;
  };
  const channel = channelWith({ authorization: `Bearer ${adminToken}` });
  return {
    service,
    address: service.server.address,
    target,
    channel,
    authority,
    adminToken,
    auditEvents,
    get db(): Db {
      if (!resources) throw new Error(`the ${def.name} service has not registered its handlers`);
      return resources.db;
    },
    client: (desc) => createGrpcClient(desc, channel),
    clientWith: (desc, metadata) => createGrpcClient(desc, channelWith(metadata)),
    async stop() {
      for (const c of channels) c.close();
      await service.stop(1_000);
      await scratch.drop();
    },
  };
}
