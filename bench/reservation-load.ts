/**
 * The reservation bench's load process: CONCURRENCY callers of POST /v1/reservations at the edge
 * for SECONDS, over HTTP/1.1 keep-alive with a bearer token, each call a new order (a fresh UUID)
 * reserving 1 of one item across the given warehouses, then prints a HoldLoadResult as JSON. A
 * call that fails, or answers with a reservation that is not ACTIVE, counts as a failure.
 * Env: EDGE_URL, TOKEN, CONCURRENCY, SECONDS, ITEMS_FILE (a JSON array of item ids, one picked at
 * random per call), WAREHOUSE_IDS (comma-separated, in priority order).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import type { HoldLoadResult } from "./hold-load.js";

const env = (name: string) => process.env[name] ?? "";
const concurrency = Number(env("CONCURRENCY"));
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const url = new URL("/v1/reservations", env("EDGE_URL"));
const items = JSON.parse(readFileSync(env("ITEMS_FILE"), "utf8")) as string[];
const warehouseIds = env("WAREHOUSE_IDS").split(",");
const authorization = `Bearer ${env("TOKEN")}`;

const errors: string[] = [];
const call = () =>
  new Promise<boolean>((resolve) => {
    const body = JSON.stringify({
      orderId: randomUUID(),
      customerId: "bench",
      lines: [{ itemId: items[Math.floor(Math.random() * items.length)], quantity: "1" }],
      warehouseIds,
    });
    const req = request(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode === 200 && text.includes('"RESERVATION_STATUS_ACTIVE"')) return resolve(true);
          if (errors.length < 5) errors.push(`${res.statusCode}: ${text.slice(0, 200)}`);
          resolve(false);
        });
      },
    );
    req.on("error", (err) => {
      if (errors.length < 5) errors.push(err.message);
      resolve(false);
    });
    req.end(body);
  });

const latencies: number[] = [];
let failures = 0;
const until = performance.now() + Number(env("SECONDS")) * 1000;
const started = performance.now();
const cpuAtStart = process.cpuUsage();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const t = performance.now();
      if (!(await call())) failures++;
      latencies.push(performance.now() - t);
    }
  }),
);
const cpu = process.cpuUsage(cpuAtStart);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.floor((latencies.length - 1) * p)] ?? Number.NaN;
const result: HoldLoadResult = {
  rps: latencies.length / seconds,
  p50Ms: pct(0.5),
  p99Ms: pct(0.99),
  requests: latencies.length,
  failures,
  errors,
  cpuUs: cpu.user + cpu.system,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
agent.destroy();
