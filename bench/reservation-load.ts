/**
 * The reservation bench's load process: CONCURRENCY callers of POST /v1/reservations at the edge
 * for SECONDS, over HTTP/1.1 keep-alive with a bearer token, each call a new order (a fresh UUID)
 * reserving 1 of one item across the given warehouses, then prints a CallLoopResult as JSON. A
 * call that fails, or answers with a reservation that is not ACTIVE, counts as a failure.
 * Env: EDGE_URL, TOKEN, CONCURRENCY, SECONDS, ITEMS_FILE (a JSON array of item ids, one picked at
 * random per call), WAREHOUSE_IDS (comma-separated, in priority order).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { callLoop } from "./call-loop.js";

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

const result = await callLoop(call, Number(env("CONCURRENCY")), Number(env("SECONDS")), errors);
process.stdout.write(`${JSON.stringify(result)}\n`);
agent.destroy();
