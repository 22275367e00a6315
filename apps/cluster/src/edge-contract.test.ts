/**
 * The edge routes exactly the catalog's public services, over REST, Connect and gRPC-Web, and
 * none of its internal ones: those answer 404 whichever protocol asks.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { internalServices, publicServices } from "@inv/service-catalog/descriptors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";

let cluster: TestCluster;
/** The administrator's rights as an API key: a call of Logout with it ends no session the other calls need. */
let credentials: Record<string, string>;
beforeAll(async () => {
  cluster = await startTestCluster();
  credentials = { authorization: `Bearer ${(await cluster.apiKeyWithRole("admin")).secret}` };
});
afterAll(() => cluster?.stop());

const methodsOf = (services: readonly DescService[]) =>
  services.flatMap((s) => s.methods.filter((m) => m.methodKind === "unary" || m.methodKind === "server_streaming"));
const rows = (services: readonly DescService[]) => methodsOf(services).map((m) => [`${m.parent.typeName}/${m.name}`, m] as const);

/** A five-byte frame around a message, as gRPC-Web and streaming Connect send it. */
const frame = (message: Uint8Array) => Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);

/** An empty request to a method with the administrator's credentials, the way a Connect client sends it (JSON), or a gRPC-Web one. */
function request(method: DescMethod, protocol: "connect" | "grpc-web"): RequestInit {
  if (protocol === "grpc-web")
    return { method: "POST", headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...credentials }, body: frame(new Uint8Array()) };
  return method.methodKind === "unary"
    ? { method: "POST", headers: { "content-type": "application/json", ...credentials }, body: "{}" }
    : { method: "POST", headers: { "content-type": "application/connect+json", ...credentials }, body: frame(Buffer.from("{}")) };
}

/** The HTTP status, and whether the call was refused for want of credentials or rights, however the protocol says so. */
const answerOf = async (path: string, init: RequestInit) => {
  const res = await fetch(`${cluster.baseUrl}${path}`, init);
  const body = Buffer.from(await res.arrayBuffer()).toString("latin1");
  const grpcStatus = res.headers.get("grpc-status") ?? /grpc-status: ?(\d+)/.exec(body)?.[1]; // gRPC-Web: in the trailer frame
  const connectCode = /"code":"(unauthenticated|permission_denied)"/.exec(body)?.[1]; // Connect: the error body or end-stream message
  return { status: res.status, refused: [401, 403].includes(res.status) || grpcStatus === "16" || grpcStatus === "7" || connectCode !== undefined };
};
const statusOf = async (path: string, init: RequestInit) => (await answerOf(path, init)).status;

describe("REST", () => {
  interface Operation {
    operationId: string;
    tags: string[];
  }
  const operations = async () => {
    const doc = (await (await fetch(`${cluster.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
    return {
      paths: Object.keys(doc.paths),
      operations: Object.values(doc.paths).flatMap((item) => Object.values(item).filter((o) => typeof o === "object" && "operationId" in o)),
    };
  };

  it("/openapi.json documents every method of every public service of the catalog, and nothing else", async () => {
    const { operations: ops } = await operations();
    expect(new Set(ops.flatMap((o) => o.tags))).toEqual(new Set(publicServices.map((s) => s.name)));
    // Extra bindings of one method get "_1", "_2" after its id.
    expect(new Set(ops.map((o) => o.operationId.replace(/_\d+$/, "")))).toEqual(
      new Set(publicServices.flatMap((s) => s.methods.map((m) => `${s.name}_${m.name}`))),
    );
  });

  it("/openapi.json has no path of an internal service, which answer 404 over REST", async () => {
    const { paths } = await operations();
    expect(paths.filter((p) => /\/v1\/holds|storage[-_]usage|introspect|audit-records/i.test(p))).toEqual([]);
    for (const path of ["/v1/holds", "/v1/holds/0190a0a0-0000-7000-8000-000000000000", "/v1/storage-usage"]) {
      expect(await statusOf(path, { method: "GET", headers: credentials }), `GET ${path}`).toBe(404);
      expect(await statusOf(path, { method: "POST", headers: { "content-type": "application/json", ...credentials }, body: "{}" }), `POST ${path}`).toBe(404);
    }
  });
});

describe.each(["connect", "grpc-web"] as const)("%s", (protocol) => {
  // Routed, and past the access check with the administrator's credentials: the service refuses
  // the empty request or answers it.
  it.each(rows(publicServices))("routes public %s", async (_name, method) => {
    const answer = await answerOf(`/${method.parent.typeName}/${method.name}`, request(method, protocol));
    expect(answer).toEqual({ status: expect.not.toSatisfy((s: number) => s === 404), refused: false });
  });

  it.each(rows(internalServices))("answers 404 for internal %s", async (_name, method) => {
    expect(await statusOf(`/${method.parent.typeName}/${method.name}`, request(method, protocol))).toBe(404);
  });
});
