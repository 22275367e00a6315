/**
 * The edge's own cost, without gRPC: its request handler (request id, CORS, routing,
 * transcoding, the identity check of a bearer token, rate limits, rendering) in front of an
 * upstream that answers at once from memory, against a bare node:http handler rendering the same
 * answer, both in this process, loaded by autocannon from another. Prints CPU per request and the
 * ratio, measured in the same run. Usage: npm run bench:edge
 * Env: BENCH_DURATION (seconds per run, 4), BENCH_ROUNDS (3).
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { create, toJson } from "@bufbuild/protobuf";
import { GetWarehouseResponseSchema, WarehouseSchema, WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { AccessTokenVerifier, createLogger } from "@inv/platform";
import { TestAuthority } from "@inv/platform/testing";
import { DEFAULT_RATE_LIMITS, RateLimits, createEdgeHandler, startHttpServer, verifiedIdentity, type Upstreams } from "@inv/edge";
import { formatRows } from "./report.js";

const SECONDS = Number(process.env["BENCH_DURATION"] ?? 4);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const id = "0190a0a0-0000-7000-8000-000000000001";
const response = create(GetWarehouseResponseSchema, {
  warehouse: {
    id,
    code: "BENCH",
    name: "Bench DC",
    address: { line1: "Dock 4", city: "Amsterdam", postalCode: "1011 AB", countryCode: "NL" },
    priority: 10,
    active: true,
    etag: "1-abc",
  },
});
const authority = await TestAuthority.create();
const token = await authority.issue({ permissions: ["*"] });
const log = createLogger("edge", "info");
const fromMemory = { unary: async () => response } as unknown as Upstreams;
const unlimited = { points: 10 ** 9, durationSeconds: 60 };

const edge = await startHttpServer(
  createEdgeHandler({
    services: [WarehouseService],
    upstreams: fromMemory,
    log,
    cors: { origins: [] },
    openapi: {},
    readiness: async () => ({}),
    rateLimits: RateLimits.create({ ...DEFAULT_RATE_LIMITS, perAddress: unlimited, perUser: unlimited }, log),
    identify: verifiedIdentity(new AccessTokenVerifier({ jwks: authority.jwks })),
  }),
  0,
  "127.0.0.1",
);
const bare: Server = createServer((_req, res) => {
  void Promise.resolve(response).then((r) => {
    const json = JSON.stringify(toJson(WarehouseSchema, r.warehouse!, { alwaysEmitImplicit: true }));
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
    res.end(json);
  });
});
await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", () => resolve()));

const cli = fileURLToPath(import.meta.resolve("autocannon/autocannon.js"));
const portOf = (server: Server) => (server.address() as { port: number }).port;
async function measure(server: Server, seconds: number): Promise<{ rps: number; us: number }> {
  const args = [cli, "--json", "--no-progress", "-c", "16", "-d", String(seconds), "-H", `authorization=Bearer ${token}`];
  const before = process.cpuUsage();
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [...args, `http://127.0.0.1:${portOf(server)}/v1/warehouses/${id}`], (err, out) => (err ? reject(err) : resolve(out))),
  );
  const cpu = process.cpuUsage(before);
  const out = JSON.parse(stdout) as { requests: { total: number }; duration: number; non2xx: number };
  if (out.non2xx > 0) throw new Error(`${out.non2xx} requests failed`);
  return { rps: out.requests.total / out.duration, us: (cpu.user + cpu.system) / out.requests.total };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = { edge: [] as number[], bare: [] as number[] };
await measure(edge, 1);
await measure(bare, 1);
for (let round = 0; round < ROUNDS; round++) {
  runs.edge.push((await measure(edge, SECONDS)).us);
  runs.bare.push((await measure(bare, SECONDS)).us);
}
const [e, b] = [median(runs.edge), median(runs.bare)];
console.log(
  formatRows(
    [
      ["handler", "CPU µs per request"],
      ["edge (from memory)", e.toFixed(1)],
      ["bare node:http", b.toFixed(1)],
      ["edge / bare", `${(e / b).toFixed(2)}x`],
    ],
    `The edge's own cost, GET /v1/warehouses/{id} with a bearer token, 16 connections, median of ${ROUNDS}`,
  ),
);
edge.close();
bare.close();
process.exit(0);
