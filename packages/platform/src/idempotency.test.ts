import { eq, sql } from "drizzle-orm";
import { pgSchema } from "drizzle-orm/pg-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "./db.js";
import { type DomainError, InvalidArgument } from "./errors.js";
import { idempotencyTable, payloadHash, runIdempotent, type IdempotentRequest } from "./idempotency.js";
import { openScratchDb } from "./testing/scratch-db.js";

const requests = idempotencyTable(pgSchema("t"));
const DDL = `
  CREATE SCHEMA t;
  CREATE TABLE t.idempotent_requests (scope text NOT NULL, request_id text NOT NULL, payload_hash text NOT NULL, response text,
    created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL, CONSTRAINT idempotent_requests_pk PRIMARY KEY (scope, request_id));`;

let db: Db;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ db, close } = await openScratchDb("idempotency", DDL));
});
afterAll(() => close?.());

let seq = 0;
/** A request whose work counts how often it ran and answers with that count. */
function counted(requestId: string, payload: unknown = { a: 1 }) {
  const state = { runs: 0 };
  const req: IdempotentRequest<{ n: number }> = {
    table: requests,
    scope: "Test",
    requestId,
    payload,
    codec: { encode: (r) => JSON.stringify(r), decode: (s) => JSON.parse(s) as { n: number } },
  };
  const run = (work = async () => ({ n: ++state.runs })) => runIdempotent(db, req, work);
  return { state, run, req };
}

describe("runIdempotent", () => {
  it("runs every time without a request id", async () => {
    const { state, run } = counted("");
    await run();
    await run();
    expect(state.runs).toBe(2);
  });

  it("runs once per request id and answers retries with the first response", async () => {
    const { state, run } = counted(`r${++seq}`);
    expect(await run()).toEqual({ n: 1 });
    expect(await run()).toEqual({ n: 1 });
    expect(state.runs).toBe(1);
  });

  it("refuses the same id with another payload: ALREADY_EXISTS, REQUEST_ID_REUSED", async () => {
    const id = `r${++seq}`;
    await counted(id, { a: 1 }).run();
    const err = await counted(id, { a: 2 })
      .run()
      .catch((e: DomainError) => e);
    expect(err).toMatchObject({ reason: "REQUEST_ID_REUSED", violation: { field: "request_id", constraint: "same_payload" } });
  });

  it("forgets a request that failed, so it can be sent again", async () => {
    const { state, run } = counted(`r${++seq}`);
    await expect(run(async () => Promise.reject(new InvalidArgument("no", { field: "x", constraint: "y" })))).rejects.toThrow("no");
    expect(await run()).toEqual({ n: 1 });
    expect(state.runs).toBe(1);
  });

  it("20 concurrent calls with one id: the work runs once and all get the same answer", async () => {
    const { state, run } = counted(`r${++seq}`);
    const answers = await Promise.all(Array.from({ length: 20 }, () => run()));
    expect(state.runs).toBe(1);
    expect(answers).toEqual(Array.from({ length: 20 }, () => ({ n: 1 })));
  });

  it("takes over an expired id, and sweeps expired ones", async () => {
    const { state, run } = counted(`r${++seq}`);
    await run();
    const stale = counted(`r${++seq}`);
    await stale.run();
    await db.update(requests).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(requests.scope, "Test"));
    expect(await run()).toEqual({ n: 2 }); // expired: a new request
    expect(state.runs).toBe(2);
    const left = await db.select().from(requests).where(eq(requests.requestId, stale.req.requestId));
    expect(left).toEqual([]);
  });
});

describe("payloadHash", () => {
  it("ignores key order and tells different values apart", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), (value, other) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        expect(payloadHash(reversed)).toBe(payloadHash(value));
        if (JSON.stringify(other) !== JSON.stringify(value) && typeof other !== "object") expect(payloadHash(other)).not.toBe(payloadHash(value));
      }),
      { numRuns: 100 },
    );
  });
});
