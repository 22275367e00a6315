import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { GrpcChannel, ServiceIdentity, createGrpcClient, type GrpcClient } from "@inv/platform";
import { createScratchDatabase, testRedisUrl } from "@inv/platform/testing";
import { perProcess, processNames, type ProcessName } from "@inv/service-catalog";
import { pino } from "pino";
import { startCluster, type RunningCluster } from "./index.js";

/** A signed-in user the test made. */
export interface TestUser {
  readonly userId: string;
  readonly username: string;
  readonly password: string;
  /** Its access token (send as "Bearer <token>"). */
  readonly token: string;
}

/** An API key the test made; `secret` goes in `x-api-key` or after "Bearer ". */
export interface TestApiKey {
  readonly id: string;
  readonly secret: string;
}

export interface TestCluster extends RunningCluster {
  /** The edge's base URL, e.g. http://127.0.0.1:40123. */
  readonly baseUrl: string;
  /** host:port of each service process. */
  readonly grpc: Record<ProcessName, string>;
  /** The first administrator's access token, signed in through the edge. */
  readonly adminToken: string;
  /** `Bearer <adminToken>`: the authorization header of the administrator. */
  readonly authorization: string;
  /** The user service, straight over gRPC, as the administrator. */
  readonly users: GrpcClient<typeof UserService>;
  /** A client of any service straight at its process, sending exactly this metadata ({} for anonymous). */
  clientWith<S extends DescService>(service: S, process: ProcessName, metadata: Record<string, string>): GrpcClient<S>;
  /** Signs in through the edge (POST /v1/auth:login); returns the access token. */
  login(username: string, password: string): Promise<string>;
  /** A JSON request to the edge as the administrator: the status and the parsed body ({} when empty). */
  rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }>;
  /** A new user with these roles (and a strong password), signed in. */
  userWithRoles(roles: readonly string[]): Promise<TestUser>;
  /** A new API key of the administrator acting with this role. */
  apiKeyWithRole(role: string): Promise<TestApiKey>;
  /** This cluster's identity of one of its processes, for calls "from another service" (close it after). */
  serviceIdentity(name: string): Promise<ServiceIdentity>;
}

let seq = 0;
const strongPassword = () => `Cl-${randomBytes(12).toString("base64url")}-7q`;

/**
 * The third tier of tests: the whole cluster, every process of the catalog on a free port behind
 * the edge, over this file's own database (or in-memory PGlite) and real Redis when TEST_REDIS_URL
 * is set; with its first administrator (made by the user service at start) signed in.
 */
export async function startTestCluster(): Promise<TestCluster> {
  const admin = { username: `admin-${randomBytes(4).toString("hex")}`, password: strongPassword() };
  // The user service reads these when it starts (settingsFromEnvironment); argon2 at its
  // cheapest allowed cost, since the cost is not under test here.
  Object.assign(process.env, {
    ADMIN_USERNAME: admin.username,
    ADMIN_PASSWORD: admin.password,
    PASSWORD_HASH_MEMORY_KIB: "64",
    PASSWORD_HASH_ITERATIONS: "1",
  });
  const scratch = await createScratchDatabase("cluster");
  const serviceSecret = randomBytes(32).toString("base64url");
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
    serviceSecret,
    log: pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" }),
  });
  const addressOf = new Map(cluster.services.map((s) => [s.name, s.server.address]));
  const grpc = perProcess(
    (name) => name,
    (p) => addressOf.get(p.name) ?? "",
  );
  const baseUrl = cluster.edge.url;
  const channels: GrpcChannel[] = [];
  const identities: ServiceIdentity[] = [];
  const clientWith = <S extends DescService>(service: S, process: ProcessName, metadata: Record<string, string>) => {
    const channel = new GrpcChannel(`dns:///${grpc[process]}`, { deadlineMs: 10_000, metadata: () => metadata });
    channels.push(channel);
    return createGrpcClient(service, channel);
  };
  const stop = async () => {
    for (const c of channels) c.close();
    for (const i of identities) i.close();
    await cluster.stop();
    await scratch.drop();
  };

  try {
    const login = async (username: string, password: string) => {
      const res = await fetch(`${baseUrl}/v1/auth:login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      const body = (await res.json()) as { accessToken?: string };
      if (res.status !== 200 || !body.accessToken) throw new Error(`signing in as ${username} failed: ${res.status} ${JSON.stringify(body)}`);
      return body.accessToken;
    };
    const adminToken = await login(admin.username, admin.password);
    const authorization = `Bearer ${adminToken}`;
    const users = clientWith(UserService, "user", { authorization });
    return {
      ...cluster,
      baseUrl,
      grpc,
      adminToken,
      authorization,
      users,
      clientWith,
      login,
      async rest(method, path, body) {
        const res = await fetch(`${baseUrl}${path}`, {
          method,
          headers: { "content-type": "application/json", authorization },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
      },
      async userWithRoles(roles) {
        const username = `user-${process.pid}-${++seq}`;
        const password = strongPassword();
        const { user } = await users.createUser({ user: { username, email: `${username}@example.com`, roles: [...roles] }, password });
        return { userId: user!.id, username, password, token: await login(username, password) };
      },
      async apiKeyWithRole(role) {
        const { apiKey, secret } = await users.createApiKey({ apiKey: { name: `key ${++seq}`, role } });
        return { id: apiKey!.id, secret };
      },
      async serviceIdentity(name) {
        const identity = await ServiceIdentity.start(name, serviceSecret, processNames);
        identities.push(identity);
        return identity;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
