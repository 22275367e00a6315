/**
 * The chaos run's load process: CONCURRENCY clients of the edge for SECONDS, each making
 * reservations of 1 to 3 of a random item (hot or spread, over every active warehouse) with a
 * time to live of 1 to 5 s, then confirming some, cancelling some, confirming then cancelling
 * some, and leaving the rest to expire. Service processes are killed and restarted meanwhile, so
 * errors are expected: it counts answers by HTTP status (0: no answer) and prints them as JSON.
 * Env: EDGE_URL, TOKEN, CONCURRENCY, SECONDS, ITEMS_FILE (a JSON array of item ids).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { postJson } from "./http-post.js";

const env = (name: string) => process.env[name] ?? "";
const concurrency = Number(env("CONCURRENCY"));
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const base = env("EDGE_URL");
const items = JSON.parse(readFileSync(env("ITEMS_FILE"), "utf8")) as string[];
const authorization = `Bearer ${env("TOKEN")}`;

/** What the run saw: answers by call and HTTP status ("error" when no answer came). */
const counts: Record<string, number> = {};
const count = (key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** The part of an answer the run looks at. */
interface Answer {
  reservation?: { id: string; status: string };
}

const post = async (path: string, body: unknown): Promise<{ status: number; body: Answer }> => {
  const { status, text } = await postJson(agent, new URL(path, base), body, { authorization });
  try {
    return { status, body: JSON.parse(text) as Answer };
  } catch {
    return { status, body: {} };
  }
};

const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;

async function once() {
  const reserved = await post("/v1/reservations", {
    orderId: randomUUID(),
    customerId: "chaos",
    lines: [{ itemId: pick(items), quantity: String(1 + Math.floor(Math.random() * 3)) }],
    ttl: `${1 + Math.floor(Math.random() * 5)}s`,
  });
  const status = reserved.body.reservation?.status;
  count(`reserve ${reserved.status}${status ? ` ${status.replace("RESERVATION_STATUS_", "")}` : ""}`);
  // No answer (the edge is down): wait a moment rather than spin on refused connections.
  if (reserved.status === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  if (status !== "RESERVATION_STATUS_ACTIVE") return;
  const id = reserved.body.reservation!.id;
  const roll = Math.random();
  if (roll < 0.65) count(`confirm ${(await post(`/v1/reservations/${id}:confirm`, {})).status}`);
  if (roll >= 0.4 && roll < 0.75) count(`cancel ${(await post(`/v1/reservations/${id}:cancel`, { reason: "chaos" })).status}`);
}

const until = performance.now() + Number(env("SECONDS")) * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) await once();
  }),
);
process.stdout.write(`${JSON.stringify(counts)}\n`);
agent.destroy();
