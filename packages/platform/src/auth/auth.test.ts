import { randomBytes } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { SignJWT, decodeProtectedHeader, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Caller } from "./principal.js";
import { bearerToken } from "./authenticator.js";
import { onBehalfOf } from "./outgoing.js";
import { ServiceIdentity } from "./tokens.js";
import { registration } from "../grpc/handler.js";
import { RemoteError } from "../grpc/status.js";
import type { ServiceDefinitionOptions } from "../runtime.js";
import { startTestService, type TestService } from "../testing/index.js";

const SECRET = randomBytes(32).toString("hex");
let seen: Caller | undefined;

/** A service with one method of each kind of rule: a permission, public, internal, streaming. */
const definition: ServiceDefinitionOptions = {
  name: "warehouse",
  register: () => [
    registration(WarehouseService, {
      getWarehouse: async (_req, ctx) => {
        seen = ctx.caller;
        return { warehouse: { id: "w1", code: "W1", name: "One" } };
      },
      deleteWarehouse: async () => ({}),
    }),
    registration(UserService, { login: async () => ({ accessToken: "t" }) }),
    registration(TokenService, { introspectToken: async () => ({ active: false }) }),
    registration(StockService, {
      async *watchStock() {
        yield {};
      },
    }),
  ],
};

let svc: TestService;
let identities: Record<string, ServiceIdentity>;

beforeAll(async () => {
  svc = await startTestService(definition, { serviceSecret: SECRET });
  identities = {
    reservation: await ServiceIdentity.start("reservation", SECRET, ["warehouse", "user"]),
    edge: await ServiceIdentity.start("edge", SECRET, ["warehouse"]),
    stranger: await ServiceIdentity.start("reservation", "another secret entirely, 32 chars+", ["warehouse"]),
  };
});
afterAll(async () => {
  for (const identity of Object.values(identities ?? {})) identity.close();
  await svc?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const codeOf = (call: Promise<unknown>) =>
  call.then(
    () => status.OK,
    (err: unknown) => (err instanceof RemoteError ? err.code : Promise.reject(err)),
  );
const get = (metadata: Record<string, string>) => codeOf(svc.clientWith(WarehouseService, metadata).getWarehouse({ id: "w1" }));
const tokenWith = (permissions: string[]) => svc.authority.issue({ permissions });

describe("the permission an RPC declares", () => {
  it("refuses an anonymous caller with UNAUTHENTICATED", async () => {
    expect(await get({})).toBe(status.UNAUTHENTICATED);
  });

  it("lets a caller through with the permission, exactly or by wildcard", async () => {
    for (const granted of ["warehouse.read", "warehouse.*", "*"]) expect(await get(bearer(await tokenWith([granted])))).toBe(status.OK);
  });

  it("refuses a valid caller without it with PERMISSION_DENIED", async () => {
    for (const granted of [[], ["stock.read"], ["warehouse.write"], ["warehouse"], ["warehouse.read.x"]])
      expect(await get(bearer(await tokenWith(granted)))).toBe(status.PERMISSION_DENIED);
  });

  it("accepts an API key in x-api-key or as a bearer token", async () => {
    const key = await svc.authority.issue({ permissions: ["warehouse.read"], kind: "api_key" });
    expect(await get({ "x-api-key": key })).toBe(status.OK);
    expect(await get(bearer(key))).toBe(status.OK);
    svc.authority.revoke(key);
    expect(await get({ "x-api-key": key })).toBe(status.UNAUTHENTICATED);
  });

  it("runs public RPCs for anyone, even with a stale token attached", async () => {
    const expired = await svc.authority.issue({ permissions: ["*"] }, { expiresIn: -60 });
    for (const metadata of [{}, bearer(expired), { authorization: "Basic abc" }])
      expect(await codeOf(svc.clientWith(UserService, metadata).login({ username: "a", password: "b" }))).toBe(status.OK);
  });

  it("checks server-streaming calls too", async () => {
    const watch = async (metadata: Record<string, string>) => {
      try {
        for await (const _ of svc.clientWith(StockService, metadata).watchStock({})) break;
        return status.OK;
      } catch (err) {
        return (err as RemoteError).code;
      }
    };
    expect(await watch({})).toBe(status.UNAUTHENTICATED);
    expect(await watch(bearer(await tokenWith(["warehouse.read"])))).toBe(status.PERMISSION_DENIED);
    expect(await watch(bearer(await tokenWith(["stock.read"])))).toBe(status.OK);
  });
});

describe("tokens that must be refused", () => {
  it("refuses forged, expired, premature and revoked access tokens with UNAUTHENTICATED", async () => {
    const good = await tokenWith(["*"]);
    const { kid } = decodeProtectedHeader(good);
    const [header, payload, signature] = good.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;

    const other = await generateKeyPair("EdDSA", { extractable: true });
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: "not-a-published-key" }).sign(other.privateKey);
    const wrongKeySameKid = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: kid! }).sign(other.privateKey);
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid })).toString("base64url")}.${payload}.`;
    const publicJwk = (await svc.authority.jwks()).keys[0]!;
    const hsWithPublicKey = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: kid! }).sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    const hsWithPublicX = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: kid! }).sign(Buffer.from(publicJwk.x!, "base64url"));
    const noKid = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA" }).sign(other.privateKey);
    const expired = await svc.authority.issue({ permissions: ["*"] }, { expiresIn: -30 });
    const premature = await svc.authority.issue({ permissions: ["*"] }, { notBefore: 120 });
    const revoked = await tokenWith(["*"]);
    svc.authority.revoke(revoked);

    const refused = {
      tampered: `${header}.${payload}.${flipped}`,
      unknownKid,
      wrongKeySameKid,
      none,
      hsWithPublicKey,
      hsWithPublicX,
      noKid,
      expired,
      premature,
      revoked,
      garbage: "not.a.jwt",
    };
    for (const [name, token] of Object.entries(refused)) expect([name, await get(bearer(token))]).toEqual([name, status.UNAUTHENTICATED]);
    expect(await get({ authorization: "Basic dXNlcjpwYXNz" })).toBe(status.UNAUTHENTICATED);
    expect(await get(bearer(good))).toBe(status.OK);
  });
});

describe("service identities", () => {
  const internal = (metadata: Record<string, string>) => codeOf(svc.clientWith(TokenService, metadata).introspectToken({ token: "x" }));
  const service = (name: keyof typeof identities) => ({ "x-service-token": identities[name]!.tokenFor("warehouse") });

  it("lets only a platform service call an internal RPC, whatever user credential comes along", async () => {
    expect(await internal(bearer(svc.adminToken))).toBe(status.PERMISSION_DENIED);
    expect(await internal({})).toBe(status.UNAUTHENTICATED);
    expect(await internal(service("reservation"))).toBe(status.OK);
    expect(await internal({ ...service("reservation"), ...bearer(await tokenWith(["warehouse.read"])) })).toBe(status.OK);
    expect(await internal(service("edge"))).toBe(status.PERMISSION_DENIED);
    expect(await internal({ ...service("edge"), ...bearer(svc.adminToken) })).toBe(status.PERMISSION_DENIED);
  });

  it("refuses a service token signed with another secret or addressed to another process", async () => {
    expect(await internal(service("stranger"))).toBe(status.UNAUTHENTICATED);
    expect(await internal({ "x-service-token": identities["reservation"]!.tokenFor("user") })).toBe(status.UNAUTHENTICATED);
  });

  it("checks a forwarded caller's own rights: a service never lends more than the caller had", async () => {
    const viewer = bearer(await tokenWith(["warehouse.read"]));
    expect(await get({ ...service("reservation"), ...viewer })).toBe(status.OK);
    const del = (metadata: Record<string, string>) => codeOf(svc.clientWith(WarehouseService, metadata).deleteWarehouse({ id: "w1" }));
    expect(await del({ ...service("reservation"), ...viewer })).toBe(status.PERMISSION_DENIED);
    expect(await del(service("reservation"))).toBe(status.PERMISSION_DENIED); // the service role cannot delete warehouses either
    expect(await get(service("reservation"))).toBe(status.OK); // but it can read them
    expect(seen?.principal).toMatchObject({ kind: "service", subject: "service:reservation" });
  });

  it("treats the edge without caller credentials as anonymous", async () => {
    expect(await get(service("edge"))).toBe(status.UNAUTHENTICATED);
  });

  it("trusts the client address and user agent the edge forwards, and no one else's", async () => {
    const viewer = bearer(await tokenWith(["warehouse.read"]));
    await get({ ...service("edge"), ...viewer, "x-client-ip": "203.0.113.9", "x-client-user-agent": "curl/8" });
    expect(seen).toMatchObject({ viaService: "edge", clientIp: "203.0.113.9", userAgent: "curl/8", principal: { kind: "user" } });
    await get({ ...viewer, "x-client-ip": "203.0.113.9" });
    expect(seen?.clientIp).toBe("127.0.0.1");
    expect(seen?.viaService).toBeUndefined();
  });

  it("calls another service on the caller's behalf with the caller's rights and its own identity (onBehalfOf)", async () => {
    // A "reservation" handler that reads and deletes warehouses in the warehouse service for its caller.
    const relay = await startTestService(
      {
        name: "reservation",
        register: ({ identity }) => [
          registration(WarehouseService, {
            getWarehouse: (req, ctx) => svc.clientWith(WarehouseService, onBehalfOf(ctx, identity, "warehouse")).getWarehouse(req),
            deleteWarehouse: (req, ctx) => svc.clientWith(WarehouseService, onBehalfOf(ctx, identity, "warehouse")).deleteWarehouse(req),
          }),
        ],
      },
      { serviceSecret: SECRET, authority: svc.authority },
    );
    try {
      const viewer = bearer(await svc.authority.issue({ permissions: ["warehouse.read"], username: "via" }));
      const relayed = relay.clientWith(WarehouseService, { ...viewer, "x-request-id": "relayed-1" });
      expect(await codeOf(relayed.getWarehouse({ id: "w1" }))).toBe(status.OK);
      expect(seen).toMatchObject({ viaService: "reservation", principal: { kind: "user", username: "via" }, clientIp: "127.0.0.1", credentials: viewer });
      expect(await codeOf(relayed.deleteWarehouse({ id: "w1" }))).toBe(status.PERMISSION_DENIED);
    } finally {
      await relay.stop();
    }
  });

  it("keeps the caller's credential for calls made on its behalf, and nothing for services", async () => {
    const token = await tokenWith(["warehouse.read"]);
    await get(bearer(token));
    expect(seen?.credentials).toEqual(bearer(token));
    await get(service("reservation"));
    expect(seen?.credentials).toEqual({});
  });
});

describe("bearerToken", () => {
  it("reads the token of a Bearer header, in any case, and nothing else", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("bearer   abc ")).toBe("abc");
    expect(bearerToken("BEARER x")).toBe("x");
    for (const bad of ["Bearer", "Bearer ", "Bearer a b", "Basic abc", "Bearerabc", "Token abc", ""]) expect(bearerToken(bad), bad).toBeUndefined();
  });
});
