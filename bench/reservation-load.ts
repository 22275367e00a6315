/**
 * The reservation bench's load process: CONCURRENCY callers of POST /v1/reservations at the edge
 * for SECONDS after WARMUP_SECONDS (runLoad), over HTTP/1.1 keep-alive with a bearer token, each
 * call a new order (a fresh UUID) reserving 1 of one item across the given warehouses, then prints
 * a CallLoopResult as JSON. A call that fails, or answers with a reservation that is not ACTIVE,
 * counts as a failure.
 * Env: EDGE_URL, TOKEN, CONCURRENCY, SECONDS, WARMUP_SECONDS, ITEMS_FILE (a JSON array of item
 * ids, one picked at random per call), WAREHOUSE_IDS (comma-separated, in priority order).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { runLoad } from "./call-loop.js";
import { postJson } from "./http-post.js";

const env = (name: string) => process.env[name] ?? "";
const concurrency = Number(env("CONCURRENCY"));
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const url = new URL("/v1/reservations", env("EDGE_URL"));
const items = JSON.parse(readFileSync(env("ITEMS_FILE"), "utf8")) as string[];
const warehouseIds = env("WAREHOUSE_IDS").split(",");
const authorization = `Bearer ${env("TOKEN")}`;

const errors: string[] = [];
const call = async () => {
  const { status, text } = await postJson(
    agent,
    url,
    { orderId: randomUUID(), customerId: "bench", lines: [{ itemId: items[Math.floor(Math.random() * items.length)], quantity: "1" }], warehouseIds },
    { authorization },
  );
  if (status === 200 && text.includes('"RESERVATION_STATUS_ACTIVE"')) return true;
  if (errors.length < 5) errors.push(status === 0 ? "no answer" : `${status}: ${text.slice(0, 200)}`);
  return false;
};

await runLoad(call, errors);
agent.destroy();
