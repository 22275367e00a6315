import { edge, processes, type ProcessDeclaration, type ProcessName } from "./catalog.js";

/**
 * Who reads a variable: every service process on its own, the edge on its own, `npm start`, or
 * the one-off migration task that runs before a rollout (apps/migrate).
 */
export type Reader = "services" | "edge" | "cluster" | "migrate";

export interface EnvironmentVariable {
  readonly name: string;
  readonly meaning: string;
  /**
   * What the reader assumes when the variable is unset, as it would be written in the
   * environment; null when unset means off or embedded. A function when each service process
   * has its own (its port).
   */
  readonly default: string | null | ((process: ProcessDeclaration) => string);
  readonly readBy: readonly Reader[];
  /** Read by this one service process only (its own settings, e.g. the user service's first admin). */
  readonly only?: ProcessName;
  /** Read by every service process but this one (where a process is: it never calls itself). */
  readonly except?: ProcessName;
}

type Upper = Uppercase<ProcessName>;
export type GrpcPortVariable = `${Upper}_GRPC_PORT`;
export type GrpcTargetVariable = `${Upper}_GRPC_TARGET`;
export type DatabaseUrlVariable = `${Upper}_DATABASE_URL`;

const upper = (name: ProcessName) => name.toUpperCase() as Upper;

/** `WAREHOUSE_GRPC_PORT` and friends: where `npm start` puts each process. */
export const grpcPortVariable = (name: ProcessName): GrpcPortVariable => `${upper(name)}_GRPC_PORT`;

/** `WAREHOUSE_GRPC_TARGET` and friends: where the edge and the other service processes find each process. */
export const grpcTargetVariable = (name: ProcessName): GrpcTargetVariable => `${upper(name)}_GRPC_TARGET`;

/**
 * `WAREHOUSE_DATABASE_URL` and friends: the migration task's copy of the URL a service that owns
 * data connects with (its own role and password), from which it creates or updates that role.
 * The service itself reads the same value as DATABASE_URL.
 */
export const databaseUrlVariable = (name: ProcessName): DatabaseUrlVariable => `${upper(name)}_DATABASE_URL`;

/** grpc-js target of a process on one host; dns:/// so round_robin spreads calls over every address. */
export const grpcTarget = (process: ProcessDeclaration, host: string) => `dns:///${host}:${process.grpcPort}`;

const shared: readonly EnvironmentVariable[] = [
  { name: "LOG_LEVEL", meaning: "pino level: fatal … trace, or silent", default: "info", readBy: ["services", "edge", "cluster", "migrate"] },
  {
    name: "DATABASE_URL",
    meaning: "postgres:// URL; each service migrates its own schema at start (unset: embedded PGlite)",
    default: null,
    readBy: ["services", "cluster"],
  },
  {
    name: "DATABASE_ADMIN_URL",
    meaning: "postgres:// URL of a role that may create roles: the migration task creates each service's role and migrates its schema as that role",
    default: null,
    readBy: ["migrate"],
  },
  { name: "DATA_DIR", meaning: "where embedded PGlite keeps its files, a folder per service", default: "./.data", readBy: ["services", "cluster"] },
  {
    name: "REDIS_URL",
    meaning: "redis:// URL for caches, rate limits and events (unset: in-process)",
    default: null,
    readBy: ["services", "edge", "cluster"],
  },
  { name: "GRPC_PORT", meaning: "the gRPC port of a service run on its own", default: (p) => String(p.grpcPort), readBy: ["services"] },
  { name: "GRPC_HOST", meaning: "the address a service run on its own binds", default: "0.0.0.0", readBy: ["services"] },
  { name: "HTTP_PORT", meaning: "the edge's HTTP port", default: String(edge.httpPort), readBy: ["edge", "cluster"] },
  { name: "HTTP_HOST", meaning: "the address the edge run on its own binds", default: "0.0.0.0", readBy: ["edge"] },
  { name: "HOST", meaning: "the address every listener of `npm start` binds", default: "127.0.0.1", readBy: ["cluster"] },
  { name: "CORS_ALLOWED_ORIGINS", meaning: "comma-separated origins browsers may call the edge from", default: "*", readBy: ["edge"] },
  {
    name: "SERVICE_SECRET",
    meaning: "the cluster secret that signs service identities (at least 32 characters; unset under npm start: random per start)",
    default: null,
    readBy: ["services", "edge"],
  },
  { name: "UPSTREAM_DEADLINE_MS", meaning: "deadline of each call the edge forwards", default: "10000", readBy: ["edge"] },
  {
    name: "RATE_LIMIT_PER_ADDRESS",
    meaning: "requests per minute the edge takes from one client address (0: no limit); a flood guard, not a quota",
    default: "1200000",
    readBy: ["edge"],
  },
  { name: "RATE_LIMIT_PER_USER", meaning: "requests per minute the edge takes from one user (0: no limit)", default: "6000", readBy: ["edge"] },
  { name: "RATE_LIMIT_PER_API_KEY", meaning: "requests per minute the edge takes with one API key (0: no limit)", default: "6000", readBy: ["edge"] },
  {
    name: "TRUST_PROXY_HOPS",
    meaning: "proxies in front of the edge that append to X-Forwarded-For; the client address is the N-th entry from its right (0: the socket's peer)",
    default: "0",
    readBy: ["edge"],
  },
];

const perProcess: readonly EnvironmentVariable[] = processes.flatMap((p): EnvironmentVariable[] => [
  { name: grpcPortVariable(p.name), meaning: `gRPC port of the ${p.name} process under npm start`, default: String(p.grpcPort), readBy: ["cluster"] },
  {
    name: grpcTargetVariable(p.name),
    meaning: `gRPC target of the ${p.name} process, for the edge and every other service process`,
    default: grpcTarget(p, "127.0.0.1"),
    // Every service may call every other (each asks the user service who its callers are); none calls itself.
    readBy: ["edge", "services"],
    except: p.name,
  },
  ...(p.databaseSchema === null
    ? []
    : [
        {
          name: databaseUrlVariable(p.name),
          meaning: `postgres:// URL the ${p.name} service connects with (its own role, owner of schema "${p.databaseSchema}"), for the migration task`,
          default: null,
          readBy: ["migrate"],
        } satisfies EnvironmentVariable,
      ]),
]);

/** The user service's own settings (services/user/src/config.ts reads them). */
const userService: readonly EnvironmentVariable[] = (
  [
    ["ADMIN_USERNAME", "the first administrator's username, created while no active user holds the admin role", "admin"],
    ["ADMIN_PASSWORD", "the first administrator's password (unset: generated and printed once to stdout)", null],
    ["ADMIN_EMAIL", "the first administrator's email", null],
    ["ACCESS_TOKEN_MINUTES", "lifetime of an access token", "15"],
    ["REFRESH_TOKEN_DAYS", "lifetime of a refresh token, and so of an idle session", "7"],
    ["AUTH_SIGNING_KEYS", "JSON array of private Ed25519 JWKs; the first signs, all are published (unset: generated and kept in the user schema)", null],
    ["SIGNING_KEY_ROTATION_DAYS", "age at which a generated signing key is replaced", "30"],
    ["SIGNING_KEY_PUBLISH_MINUTES", "how long a new signing key is published before it signs", "10"],
    ["PASSWORD_HASH_MEMORY_KIB", "argon2id memory cost of password hashes", "19456"],
    ["PASSWORD_HASH_ITERATIONS", "argon2id time cost of password hashes", "2"],
  ] as const
).map(([name, meaning, fallback]) => ({ name, meaning, default: fallback, readBy: ["services"], only: "user" }));

/** The reservation service's own settings (services/reservation/src/index.ts reads them). */
const reservationService: readonly EnvironmentVariable[] = (
  [
    ["RESERVATION_TTL_MIN_SECONDS", "the shortest time to live a Reserve may ask for", "60"],
    ["RESERVATION_TTL_MAX_SECONDS", "the longest time to live a Reserve may ask for, and how far ExtendReservation may go", "604800"],
    ["RESERVATION_TTL_DEFAULT_SECONDS", "the time to live of a Reserve that asks for none", "900"],
    ["RESERVATION_SWEEP_INTERVAL_MS", "how often the sweeper expires reservations and repairs ones left pending", "1000"],
    ["RESERVATION_PENDING_GRACE_MS", "how long a reservation (or a confirm or cancel) may stay under way before the sweeper repairs it", "5000"],
    ["RESERVATION_INVENTORY_DEADLINE_MS", "deadline of each call to the inventory and warehouse services", "3000"],
  ] as const
).map(([name, meaning, fallback]) => ({ name, meaning, default: fallback, readBy: ["services"], only: "reservation" }));

/** Every variable any process reads. */
export const environment: readonly EnvironmentVariable[] = [...shared, ...perProcess, ...userService, ...reservationService];

/** The variables one reader understands; with a process, only those that process reads. */
export function variablesReadBy(reader: Reader, process?: ProcessName): readonly EnvironmentVariable[] {
  return environment.filter(
    (v) => v.readBy.includes(reader) && (v.only === undefined || v.only === process) && (process === undefined || v.except !== process),
  );
}

/** A variable's default as a given service process sees it (null: unset means off or embedded). */
export function defaultFor(variable: EnvironmentVariable, process?: ProcessDeclaration): string | null {
  if (typeof variable.default !== "function") return variable.default;
  if (!process) throw new Error(`${variable.name} has a default per service process; name the process`);
  return variable.default(process);
}
