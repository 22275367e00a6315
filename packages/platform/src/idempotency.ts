import { createHash } from "node:crypto";
import { and, eq, lte, sql } from "drizzle-orm";
import { index, primaryKey, text, timestamp, type PgSchema } from "drizzle-orm/pg-core";
import type { TextCodec } from "./binary.js";
import { inTransaction, type Db } from "./db.js";
import { AlreadyExists, Internal } from "./errors.js";

/** How long a request id is remembered: the contracts promise at least this (AIP-155). */
export const REQUEST_ID_RETENTION_HOURS = 24;
// Each new request clears at most this many expired entries, so the table stays about one
// retention period of requests deep without a background job, at a bounded cost per request.
const SWEEP_BATCH = 50;

/**
 * The table a service keeps its request ids in, in its own schema: put
 * `export const idempotentRequests = idempotencyTable(mySchema)` in the service's drizzle schema
 * file, then `drizzle-kit generate` writes the migration.
 */
export function idempotencyTable(schema: PgSchema) {
  return schema.table(
    "idempotent_requests",
    {
      /** What the request did, e.g. "CreateWarehouse": one request id per scope. */
      scope: text("scope").notNull(),
      requestId: text("request_id").notNull(),
      /** sha256 of the cleaned request, so a reuse of the id for another request is caught. */
      payloadHash: text("payload_hash").notNull(),
      /** The encoded response; null only inside the transaction that claimed the id. */
      response: text("response"),
      createdAt: timestamp("created_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
      expiresAt: timestamp("expires_at", { withTimezone: true, precision: 6 }).notNull(),
    },
    (t) => [primaryKey({ name: "idempotent_requests_pk", columns: [t.scope, t.requestId] }), index("idempotent_requests_expires_idx").on(t.expiresAt)],
  );
}

export type IdempotencyTable = ReturnType<typeof idempotencyTable>;

/** How a response is stored for a retry to return: `messageCodec` for a protobuf message. */
export type ResponseCodec<T> = TextCodec<T>;

export interface IdempotentRequest<T> {
  table: IdempotencyTable;
  /** What the request does, e.g. "CreateWarehouse". */
  scope: string;
  /** The caller's AIP-155 request id (or idempotency key); empty runs the work with no deduplication. */
  requestId: string;
  /** The request field that carried it, for the error when it is reused: "request_id" by default. */
  field?: string;
  /** The cleaned request (request id excluded): a retry must carry the same one. */
  payload: unknown;
  codec: ResponseCodec<T>;
}

/**
 * Runs `work` once per request id: the first call does the work and stores its response in the
 * same transaction; every later call with that id (within the retention period) gets the stored
 * response, or ALREADY_EXISTS if it carries another payload. An error rolls the claim back
 * with the work, so a failed request may simply be sent again.
 *
 * Race-free by the primary key: of concurrent calls with one id, one inserts the claim; the
 * others' inserts wait on that uncommitted key until its transaction ends, then either find the
 * committed response or, if it rolled back, claim the id themselves.
 */
export async function runIdempotent<T>(db: Db, req: IdempotentRequest<T>, work: (tx: Db) => Promise<T>): Promise<T> {
  return (await runOnce(db, req, work)).value;
}

/** runIdempotent that also says whether the answer is a stored one (`replayed`). */
export async function runOnce<T>(db: Db, req: IdempotentRequest<T>, work: (tx: Db) => Promise<T>): Promise<{ value: T; replayed: boolean }> {
  if (req.requestId === "") return { value: await work(db), replayed: false };
  const hash = payloadHash(req.payload);
  return inTransaction(db, async (tx) => {
    if (await claim(tx, req, hash)) {
      const response = await work(tx);
      await tx
        .update(req.table)
        .set({ response: req.codec.encode(response) })
        .where(keyOf(req));
      await sweepExpired(tx, req.table);
      return { value: response, replayed: false };
    }
    const [first] = await tx.select().from(req.table).where(keyOf(req));
    if (!first?.response) throw new Internal(`request ${req.requestId} was claimed but holds no response`);
    if (first.payloadHash !== hash) throw requestIdReused(req.requestId, req.field);
    return { value: req.codec.decode(first.response), replayed: true };
  });
}

/** Inserts the claim, or takes over an expired one; false when a live claim is already there. */
async function claim(tx: Db, req: IdempotentRequest<unknown>, hash: string): Promise<boolean> {
  const t = req.table;
  const expiresAt = sql`now() + make_interval(hours => ${REQUEST_ID_RETENTION_HOURS})`;
  const claimed = await tx
    .insert(t)
    .values({ scope: req.scope, requestId: req.requestId, payloadHash: hash, expiresAt })
    .onConflictDoUpdate({
      target: [t.scope, t.requestId],
      set: { payloadHash: hash, response: null, createdAt: sql`now()`, expiresAt },
      setWhere: lte(t.expiresAt, sql`now()`),
    })
    .returning({ scope: t.scope });
  return claimed.length > 0;
}

async function sweepExpired(tx: Db, t: IdempotencyTable): Promise<void> {
  // SKIP LOCKED: two requests sweeping at once take different rows instead of waiting on each other.
  const expired = tx
    .select({ scope: t.scope, requestId: t.requestId })
    .from(t)
    .where(lte(t.expiresAt, sql`now()`))
    .limit(SWEEP_BATCH)
    .for("update", { skipLocked: true });
  await tx.delete(t).where(sql`(${t.scope}, ${t.requestId}) IN ${expired}`);
}

const keyOf = (req: IdempotentRequest<unknown>) => and(eq(req.table.scope, req.scope), eq(req.table.requestId, req.requestId));

/** ALREADY_EXISTS: the request id (or idempotency key) is taken by a request with another payload. */
export function requestIdReused(requestId: string, field = "request_id"): AlreadyExists {
  const what = field.endsWith("idempotency_key") ? "idempotency key" : "request_id";
  const reason = field.endsWith("idempotency_key") ? "IDEMPOTENCY_KEY_REUSED" : "REQUEST_ID_REUSED";
  return new AlreadyExists(
    `${field} "${requestId}" was already used for a different request; use a new ${what} for a new request`,
    { field, value: requestId, constraint: "same_payload" },
    reason,
  );
}

/** sha256 of a value's JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function payloadHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value, sortedKeys)).digest("base64url");
}

const sortedKeys = (_key: string, value: unknown) =>
  value !== null && typeof value === "object" && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : value;
