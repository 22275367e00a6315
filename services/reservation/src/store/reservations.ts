import { rows, valueList, type AuditOutboxRow, type Db } from "@inv/platform";
import { and, asc, desc, eq, getTableColumns, gte, inArray, lt, lte, sql, type SQL } from "drizzle-orm";
import { LIVE, Status, auditOutbox, reservations, type ReservationRow, type StatusCode } from "./schema.js";

/** What a new reservation is recorded with; the rest starts at its defaults. */
export type NewPending = Pick<
  ReservationRow,
  | "id"
  | "orderId"
  | "customerId"
  | "lines"
  | "strategy"
  | "allowSplit"
  | "warehouseIds"
  | "ttlSeconds"
  | "payloadHash"
  | "requestId"
  | "expireAt"
  | "createdBy"
  | "totalQuantity"
>;

/**
 * Records a new PENDING reservation, with its audit record, in one statement, unless the order
 * has a live one or the request id was used: the row when this call recorded it. Of concurrent
 * calls for one order, the others wait on the uncommitted key, then find nothing inserted.
 */
export async function insertPending(db: Db, row: NewPending, audit: AuditOutboxRow | undefined): Promise<ReservationRow | undefined> {
  const made = sql`
    INSERT INTO ${reservations} (id, order_id, customer_id, status, lines, strategy, allow_split, warehouse_ids, ttl_seconds,
      payload_hash, request_id, expire_at, created_by, total_quantity)
    VALUES (${row.id}::uuid, ${row.orderId}, ${row.customerId}, ${Status.PENDING}, ${JSON.stringify(row.lines)}::jsonb, ${row.strategy},
      ${row.allowSplit}, ${JSON.stringify(row.warehouseIds)}::jsonb, ${row.ttlSeconds}, ${row.payloadHash}, ${row.requestId},
      ${row.expireAt?.toISOString() ?? null}::timestamptz, ${row.createdBy}, ${row.totalQuantity})
    ON CONFLICT DO NOTHING
    RETURNING to_json(created_at) #>> '{}' AS created_at`;
  const [inserted] = await rows<{ created_at: string }>(
    db,
    audit
      ? sql`WITH made AS (${made}), recorded AS (
          INSERT INTO ${auditOutbox} (id, occur_time, event)
          SELECT ${audit.id}::uuid, ${audit.occurTime.toISOString()}::timestamptz, ${audit.event} FROM made
          ON CONFLICT (id) DO NOTHING)
        SELECT created_at FROM made`
      : made,
  );
  if (!inserted) return undefined;
  const at = new Date(inserted.created_at);
  return {
    ...row,
    status: Status.PENDING,
    failureReason: 0,
    failureMessage: "",
    shortages: [],
    cancelReason: "",
    step: "",
    fulfilReference: "",
    version: 1,
    createdAt: at,
    updatedAt: at,
    confirmedAt: null,
    fulfilledAt: null,
    cancelledAt: null,
  };
}

export async function findReservation(db: Db, id: string): Promise<ReservationRow | undefined> {
  const [row] = await db.select().from(reservations).where(eq(reservations.id, id));
  return row;
}

export async function findByRequestId(db: Db, requestId: string): Promise<ReservationRow | undefined> {
  const [row] = await db.select().from(reservations).where(eq(reservations.requestId, requestId));
  return row;
}

/** The order's live reservation, or else the one made last. */
export async function findByOrder(db: Db, orderId: string): Promise<ReservationRow | undefined> {
  const [row] = await db
    .select()
    .from(reservations)
    .where(eq(reservations.orderId, orderId))
    .orderBy(desc(sql`${reservations.status} IN (1, 2, 3, 4)`), desc(reservations.createdAt), desc(reservations.id))
    .limit(1);
  return row;
}

export async function findLiveByOrder(db: Db, orderId: string): Promise<ReservationRow | undefined> {
  const [row] = await db
    .select()
    .from(reservations)
    .where(and(eq(reservations.orderId, orderId), inArray(reservations.status, [...LIVE])));
  return row;
}

/** What a transition sets besides the status. */
export type Changes = Partial<Omit<typeof reservations.$inferInsert, "id" | "orderId" | "createdAt" | "version" | "updatedAt">>;

/**
 * Changes a reservation that is still in one of `from` (and, with `unexpired`, not yet past its
 * expiry; with `steps`, with one of those steps under way, "" for none): the row after, or
 * undefined when it had moved on.
 */
export async function transition(
  db: Db,
  id: string,
  from: readonly StatusCode[],
  changes: Changes,
  opts: { unexpired?: boolean; steps?: readonly string[] } = {},
): Promise<ReservationRow | undefined> {
  // A statement of its own rather than drizzle's update builder, which spent about 180 µs of CPU
  // per call here building the SET over every column and the 26-column RETURNING: this is every
  // reservation's second write. Values still go through their columns' encoders (jsonb, times).
  const set = Object.entries(changes).flatMap(([key, value]) => {
    if (value === undefined) return []; // as drizzle's set(): an absent change
    const column = COLUMNS[key as keyof typeof COLUMNS];
    return [sql`${sql.identifier(column.name)} = ${value === null ? null : sql.param(value, column)}`];
  });
  const [raw] = await rows<Record<string, unknown>>(
    db,
    sql`UPDATE ${reservations} SET ${sql.join([...set, sql`version = version + 1, updated_at = now()`], sql`, `)}
      WHERE id = ${id} AND status IN (${sql.raw(from.map(Number).join(", "))})
      ${opts.unexpired ? sql`AND (expire_at IS NULL OR expire_at > now())` : sql``}
      ${opts.steps ? sql`AND step IN ${valueList(opts.steps)}` : sql``}
      RETURNING *`,
  );
  return raw && reservationOf(raw);
}

const COLUMNS = getTableColumns(reservations);

/** A reservation row as Postgres returned it (snake_case, times as text), read the way drizzle reads one. */
function reservationOf(raw: Record<string, unknown>): ReservationRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(COLUMNS)) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as ReservationRow;
}

/** The status a reservation has now: PENDING and ACTIVE ones past their expiry are EXPIRED. */
export function statusAt(row: Pick<ReservationRow, "status" | "expireAt">, now: Date): StatusCode {
  const open = row.status === Status.PENDING || row.status === Status.ACTIVE;
  return open && row.expireAt !== null && row.expireAt.getTime() <= now.getTime() ? Status.EXPIRED : (row.status as StatusCode);
}

/** statusAt, in SQL. */
const effectiveStatus = sql`(CASE WHEN ${reservations.status} IN (1, 2) AND ${reservations.expireAt} <= now() THEN 6 ELSE ${reservations.status} END)`;

export interface ReservationFilter {
  statuses: number[];
  customerId?: string | undefined;
  itemId?: string | undefined;
  createdFrom?: Date | undefined;
  createdBefore?: Date | undefined;
  expireBefore?: Date | undefined;
  newestFirst: boolean;
}

export type ReservationCursor = [createdAtMicros: string, id: string];

const micros = sql<string>`(extract(epoch from ${reservations.createdAt}) * 1000000)::bigint::text`;

/** One page of reservations in creation order (ties by id), with each one's cursor. */
export async function listReservations(db: Db, f: ReservationFilter, after: ReservationCursor | undefined, limit: number) {
  const key = sql`((extract(epoch from ${reservations.createdAt}) * 1000000)::bigint, ${reservations.id})`;
  const past = (cursor: ReservationCursor): SQL =>
    f.newestFirst ? sql`${key} < (${cursor[0]}::bigint, ${cursor[1]}::uuid)` : sql`${key} > (${cursor[0]}::bigint, ${cursor[1]}::uuid)`;
  const order = f.newestFirst ? [desc(reservations.createdAt), desc(reservations.id)] : [asc(reservations.createdAt), asc(reservations.id)];
  const found = await db
    .select({ row: reservations, micros })
    .from(reservations)
    .where(
      and(
        f.statuses.length > 0
          ? sql`${effectiveStatus} IN (${sql.join(
              f.statuses.map((s) => sql`${s}`),
              sql`, `,
            )})`
          : undefined,
        f.customerId ? eq(reservations.customerId, f.customerId) : undefined,
        f.itemId ? sql`${reservations.lines} @> ${JSON.stringify([{ itemId: f.itemId }])}::jsonb` : undefined,
        f.createdFrom ? gte(reservations.createdAt, f.createdFrom) : undefined,
        f.createdBefore ? lt(reservations.createdAt, f.createdBefore) : undefined,
        f.expireBefore ? lte(reservations.expireAt, f.expireBefore) : undefined,
        after ? past(after) : undefined,
      ),
    )
    .orderBy(...order)
    .limit(limit);
  return found.map((r) => ({ row: r.row, cursor: [r.micros, r.row.id] as ReservationCursor }));
}

/**
 * Reservations the sweeper has to look at, locked for this transaction and skipped by every
 * other replica's sweeper meanwhile: PENDING or ACTIVE ones past their expiry, and PENDING ones or
 * ones with a step under way, unchanged for `pendingGraceMs` (a call cut off between its steps).
 */
export async function claimForSweep(tx: Db, pendingGraceMs: number, limit: number): Promise<ReservationRow[]> {
  return tx
    .select()
    .from(reservations)
    .where(
      sql`(${reservations.status} IN (1, 2) AND ${reservations.expireAt} <= now())
        OR ((${reservations.status} = 1 OR ${reservations.step} <> '') AND ${reservations.updatedAt} <= now() - make_interval(secs => ${pendingGraceMs / 1000}))`,
    )
    .orderBy(asc(reservations.updatedAt))
    .limit(limit)
    .for("update", { skipLocked: true });
}
