/**
 * The permission matrix, generated from the contracts: every RPC of every service of every
 * process (public and internal), called with an empty request by every kind of caller, is let
 * through or refused exactly as its declared permission and the caller's current rights say
 * (docs/decisions/0007-identity-and-access.md). Straight over gRPC at each process, and over
 * Connect through the edge for the public services.
 *
 * "Let through" means any answer but UNAUTHENTICATED and PERMISSION_DENIED: an empty request
 * mostly fails validation, and a method without handlers yet answers UNIMPLEMENTED, both after
 * the check. An empty request changes nothing, except Logout, which ends the caller's session:
 * it runs last, and each transport has sessions of its own.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { status } from "@grpc/grpc-js";
import { ErrorInfoSchema } from "@inv/gen/google/rpc/error_details_pb";
import { AUTHENTICATED, BUILT_IN_ROLES, GrpcChannel, PUBLIC, RemoteError, SERVICE_PERMISSIONS, grants, requiredPermission } from "@inv/platform";
import type { ProcessName } from "@inv/service-catalog";
import { publicServices, serviceProcesses } from "@inv/service-catalog/descriptors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";

/** What the access check did with a call. */
type Outcome = "let through" | "UNAUTHENTICATED" | "PERMISSION_DENIED";

interface Row {
  readonly process: ProcessName;
  readonly method: DescMethod;
  readonly path: string;
  readonly permission: string | undefined;
  readonly internal: boolean;
}

const rowsOf = (services: readonly { process: ProcessName; service: DescService; internal: boolean }[]): Row[] =>
  services
    .flatMap(({ process, service, internal }) =>
      service.methods.map((method) => ({ process, method, path: `/${service.typeName}/${method.name}`, permission: requiredPermission(method), internal })),
    )
    // Logout ends the caller's session: last, so every other call still has one.
    .sort((a, b) => Number(isLogout(a.method)) - Number(isLogout(b.method)));
const isLogout = (m: DescMethod) => m.parent.typeName === "user.v1.UserService" && m.name === "Logout";

const grpcRows = rowsOf(
  serviceProcesses.flatMap((p) => p.services.map((service) => ({ process: p.name, service, internal: p.internalServices.includes(service) }))),
);
const connectRows = grpcRows.filter((r) => publicServices.some((s) => s.typeName === r.method.parent.typeName));

/** The roles a person can sign in with; "service" is what services act as on their own. */
const SIGN_IN_ROLES = ["viewer", "clerk", "manager", "admin"] as const;
const KEY_ROLE = "clerk";

/** Who calls: a kind of principal, with the role it acts with (its rights are read from GetRole). */
interface Caller {
  readonly name: string;
  readonly kind: "anonymous" | "user" | "api_key" | "service";
  readonly role?: string;
  /** Comes as the edge forwards a client, with the edge's service token (gRPC only): anonymous all the same. */
  readonly viaEdge?: boolean;
}
/** Callers that carry a service token exist only over gRPC. */
const grpcOnly = (c: Caller) => c.kind === "service" || c.viaEdge === true;
const CALLERS: readonly Caller[] = [
  { name: "anonymous", kind: "anonymous" },
  ...SIGN_IN_ROLES.map((role): Caller => ({ name: role, kind: "user", role })),
  { name: `API key (${KEY_ROLE})`, kind: "api_key", role: KEY_ROLE },
  { name: "service (reservation)", kind: "service", role: "service" },
  { name: "edge without credentials", kind: "anonymous", viaEdge: true },
];

/** What the contract and the caller's current rights say should happen. */
function expected(row: Row, caller: Caller, permissions: readonly string[]): Outcome {
  const { permission } = row;
  if (permission === undefined) return "PERMISSION_DENIED"; // default deny
  if (row.internal) {
    if (caller.kind === "service") return grants(permissions, permission) ? "let through" : "PERMISSION_DENIED";
    // Anonymous straight from a client: who it is is unknown; through the edge: the edge may not.
    return caller.kind === "anonymous" && !caller.viaEdge ? "UNAUTHENTICATED" : "PERMISSION_DENIED";
  }
  if (permission === PUBLIC) return "let through";
  if (caller.kind === "anonymous") return "UNAUTHENTICATED";
  if (permission === AUTHENTICATED) return "let through";
  return grants(permissions, permission) ? "let through" : "PERMISSION_DENIED";
}

/** The reasons the access check gives; a public method's own UNAUTHENTICATED (a wrong password) is not a refusal to let the call in. */
const CHECK_REASONS = new Set(["CREDENTIALS_REQUIRED", "INVALID_CREDENTIALS", "INVALID_SERVICE_TOKEN", "PERMISSION_DENIED", "NO_PERMISSION_DECLARED"]);

function outcomeOf(row: Row, code: "UNAUTHENTICATED" | "PERMISSION_DENIED" | string, reason: string | undefined): Outcome {
  if (code !== "UNAUTHENTICATED" && code !== "PERMISSION_DENIED") return "let through";
  if (row.permission === PUBLIC && !row.internal && !CHECK_REASONS.has(reason ?? "")) return "let through";
  return code;
}

let cluster: TestCluster;
const channels = new Map<ProcessName, GrpcChannel>();
/** Each caller's credentials for gRPC and for Connect (separate sessions: each transport ends its own with Logout), and its rights. */
const callers = new Map<string, { grpc: Record<string, string>; connect: Record<string, string>; permissions: readonly string[] }>();
let rolePermissions: Map<string, readonly string[]>;
/** The service token of a caller that comes as a service; it names its callee, so it is made per call. */
let serviceTokenOf: (caller: Caller, callee: ProcessName) => string | undefined;

beforeAll(async () => {
  cluster = await startTestCluster();
  for (const p of serviceProcesses) channels.set(p.name, new GrpcChannel(`dns:///${cluster.grpc[p.name]}`, { deadlineMs: 10_000 }));
  rolePermissions = new Map(await Promise.all(BUILT_IN_ROLES.map(async (name) => [name, (await cluster.users.getRole({ name })).role!.permissions] as const)));
  const service = await cluster.serviceIdentity("reservation");
  const edge = await cluster.serviceIdentity("edge");
  for (const caller of CALLERS) {
    const permissions = caller.role ? rolePermissions.get(caller.role)! : [];
    if (caller.kind === "user") {
      const user = await cluster.userWithRoles([caller.role!]);
      const second = await cluster.login(user.username, user.password);
      callers.set(caller.name, { grpc: { authorization: `Bearer ${user.token}` }, connect: { authorization: `Bearer ${second}` }, permissions });
    } else if (caller.kind === "api_key") {
      const { secret } = await cluster.apiKeyWithRole(caller.role!);
      // Both ways of sending a key: x-api-key over gRPC, a bearer token over Connect.
      callers.set(caller.name, { grpc: { "x-api-key": secret }, connect: { authorization: `Bearer ${secret}` }, permissions });
    } else callers.set(caller.name, { grpc: {}, connect: {}, permissions });
  }
  serviceTokenOf = (caller, callee) => (caller.kind === "service" ? service : caller.viaEdge ? edge : undefined)?.tokenFor(callee);
});
afterAll(async () => {
  channels.forEach((c) => c.close());
  await cluster?.stop();
});

/** An empty request over gRPC straight to the method's process; a stream is read to its first message or its error. */
async function callGrpc(row: Row, caller: Caller): Promise<{ code: string; reason?: string | undefined; message: string }> {
  const channel = channels.get(row.process)!;
  const token = serviceTokenOf(caller, row.process);
  const metadata = { ...callers.get(caller.name)!.grpc, ...(token ? { "x-service-token": token } : {}) };
  try {
    if (row.method.methodKind === "unary") await channel.unary(row.method, {}, { metadata });
    else if (row.method.methodKind === "server_streaming") {
      // A stream that is let through may well send nothing yet: its deadline ends it.
      for await (const _ of channel.serverStream(row.method, {}, { metadata, deadlineMs: 2_000 })) break;
    } else throw new Error(`${row.path}: ${row.method.methodKind} methods are not covered`);
    return { code: "OK", message: "" };
  } catch (err) {
    if (!(err instanceof RemoteError)) throw err;
    return { code: status[err.code], reason: err.reason, message: err.message };
  }
}

const CONNECT_CODES: Partial<Record<Code, string>> = { [Code.Unauthenticated]: "UNAUTHENTICATED", [Code.PermissionDenied]: "PERMISSION_DENIED" };

/** The same over Connect through the edge. */
async function callConnect(row: Row, caller: Caller): Promise<{ code: string; reason?: string | undefined; message: string }> {
  const headers = callers.get(caller.name)!.connect;
  const withHeaders: Interceptor = (next) => (req) => {
    for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: cluster.baseUrl, httpVersion: "1.1", interceptors: [withHeaders] });
  const client = createClient(row.method.parent, transport) as unknown as Record<string, (req: object, opts: object) => unknown>;
  const call = client[row.method.localName]!;
  try {
    if (row.method.methodKind === "unary") await call({}, {});
    else for await (const _ of call({}, { timeoutMs: 2_000 }) as AsyncIterable<unknown>) break;
    return { code: "OK", message: "" };
  } catch (e) {
    const err = ConnectError.from(e);
    return { code: CONNECT_CODES[err.code] ?? Code[err.code], reason: err.findDetails(ErrorInfoSchema)[0]?.reason, message: err.rawMessage };
  }
}

describe("the contracts and the built-in roles", () => {
  it("every RPC declares the permission it needs", () => {
    expect(grpcRows.filter((r) => r.permission === undefined).map((r) => r.path)).toEqual([]);
  });

  it("the matrix covers every method of every process, and Logout comes last", () => {
    expect(grpcRows).toHaveLength(serviceProcesses.flatMap((p) => p.services.flatMap((s) => s.methods)).length);
    expect(isLogout(grpcRows.at(-1)!.method)).toBe(true);
    expect(isLogout(connectRows.at(-1)!.method)).toBe(true);
  });

  it("the service role holds exactly what the platform lets services act with, is built in, and no person or key may hold it", async () => {
    const { role } = await cluster.users.getRole({ name: "service" });
    expect(role?.builtIn).toBe(true);
    expect([...role!.permissions].sort()).toEqual([...SERVICE_PERMISSIONS].sort());
    const refused = (call: Promise<unknown>) =>
      call.then(
        () => "allowed",
        (e: { code: number; reason: string }) => `${e.code}:${e.reason}`,
      );
    const { userId } = await cluster.userWithRoles(["viewer"]);
    expect(await refused(cluster.users.assignRoles({ id: userId, roles: ["service"] }))).toBe("3:INVALID_FIELD");
    expect(await refused(cluster.users.createApiKey({ apiKey: { name: "as a service", role: "service" } }))).toBe("3:INVALID_FIELD");
  });

  it("services hold every permission an internal RPC declares, so each internal RPC has a caller", () => {
    const internal = grpcRows.filter((r) => r.internal);
    expect(internal.length).toBeGreaterThan(0);
    expect(internal.filter((r) => !grants(SERVICE_PERMISSIONS, r.permission!)).map((r) => `${r.path} needs ${r.permission}`)).toEqual([]);
  });

  it("the roles are ordered: viewer ⊂ clerk ⊂ manager ⊂ admin, judged over every declared permission", () => {
    const declared = [...new Set(grpcRows.map((r) => r.permission!).filter((p) => p !== PUBLIC && p !== AUTHENTICATED))];
    const held = (role: string) => declared.filter((p) => grants(rolePermissions.get(role)!, p));
    for (let i = 1; i < SIGN_IN_ROLES.length; i++) {
      const [lower, upper] = [SIGN_IN_ROLES[i - 1]!, SIGN_IN_ROLES[i]!];
      expect(
        held(lower).filter((p) => !held(upper).includes(p)),
        `${lower} holds what ${upper} does not`,
      ).toEqual([]);
    }
    expect(held("admin")).toEqual(declared);
  });
});

describe.each([
  ["gRPC straight to each process", grpcRows, CALLERS, callGrpc],
  ["Connect through the edge", connectRows, CALLERS.filter((c) => !grpcOnly(c)), callConnect],
] as const)("%s", (_transport, rows, who, call) => {
  describe.each(rows.map((r) => [`${r.path} (${r.internal ? "internal, " : ""}"${r.permission}")`, r] as const))("%s", (_name, row) => {
    it.each(who.map((c) => [c.name, c] as const))("as %s", async (_caller, caller) => {
      const rights = callers.get(caller.name)!.permissions;
      const want = expected(row, caller, rights);
      const got = await call(row, caller);
      const outcome = outcomeOf(row, got.code, got.reason);
      expect(
        outcome,
        `${row.path} as ${caller.name} (holding [${rights.join(", ")}]): expected ${want}, got ${got.code}${got.reason ? ` (${got.reason})` : ""} ${got.message}`,
      ).toBe(want);
      // Anonymous callers may always reach the public RPCs, whatever they answer.
      if (row.permission === PUBLIC && !row.internal) expect(got.reason, `${row.path} as ${caller.name}`).not.toBe("CREDENTIALS_REQUIRED");
    });
  });
});
