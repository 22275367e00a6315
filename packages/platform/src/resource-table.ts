import { and, count, eq, isNull, sql } from "drizzle-orm";
import { integer, timestamp, type PgColumn, type PgTable, type PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Db } from "./db.js";
import { versionOf } from "./etag.js";
import { alreadyDeleted, etagMismatch, notFound } from "./resource-errors.js";

/**
 * The columns every mutable resource has besides its id: a version for etags (AIP-154) and the
 * three lifecycle times. Spread into a drizzle table: `{ id: uuid("id").primaryKey(), ...,
 * ...resourceColumns() }`; the helpers below rely on these names.
 */
export const resourceColumns = () => ({
  /** Starts at 1 and goes up by one with every change, delete included; the etag is made from it. */
  version: integer("version").notNull().default(1),
  createdAt: timestamp("created_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  /** Soft delete: set once, never cleared. Live rows have it null. */
  deletedAt: timestamp("deleted_at", { withTimezone: true, precision: 6 }),
});

/** A drizzle table with an id and the resource columns. */
export type ResourceTable = PgTable & { id: PgColumn; version: PgColumn; updatedAt: PgColumn; deletedAt: PgColumn };
/** A row of such a table, as drizzle selects it. */
export type RowOf<T extends ResourceTable> = T["$inferSelect"];
/** What the helpers read of any row; RowOf<T> always has these. */
export interface ResourceRow {
  id: string;
  version: number;
  deletedAt: Date | null;
}

/** Where a request carried the resource's id and etag, for the errors to name. */
export interface RequestFields {
  id: string;
  etag: string;
}

/** The row with this id, locked until the transaction ends ("update" to change it, "share" to depend on it). */
export async function lockRow<T extends ResourceTable>(tx: Db, table: T, id: string, strength: "update" | "share"): Promise<RowOf<T> | undefined> {
  const [row] = await tx
    .select()
    .from(table as PgTable)
    .where(eq(table.id, id))
    .for(strength);
  return row as RowOf<T> | undefined;
}

export async function findRow<T extends ResourceTable>(db: Db, table: T, id: string): Promise<RowOf<T> | undefined> {
  const [row] = await db
    .select()
    .from(table as PgTable)
    .where(eq(table.id, id));
  return row as RowOf<T> | undefined;
}

/** The set-clause every change of a resource adds: a new version and update time. */
export const touched = <T extends ResourceTable>(table: T) => ({ version: sql`${table.version} + 1`, updatedAt: sql`now()` });

export interface ResourceUpdate<T extends ResourceTable> {
  /** The resource in words, for errors: "warehouse". */
  kind: string;
  id: string;
  /** The caller's etag; empty for an unconditional update. */
  etag: string;
  changes: PgUpdateSetSource<T>;
  fields?: RequestFields;
}

/**
 * Changes a live resource and bumps its version in one UPDATE whose WHERE clause holds the
 * etag check. Two writers holding the same etag cannot both win: the second UPDATE waits for the
 * first one's row lock, then re-checks its WHERE against the new version and matches nothing.
 * When nothing matched, one read says why: missing, deleted, or changed since the etag.
 */
export async function updateResource<T extends ResourceTable>(db: Db, table: T, update: ResourceUpdate<T>): Promise<RowOf<T>> {
  const { kind, id, etag } = update;
  const fields = update.fields ?? { id: "id", etag: "etag" };
  // An etag made for another resource, or not made by us at all, can never be current: -1 matches no row.
  const expected = etag === "" ? undefined : (versionOf(etag, id) ?? -1);
  const [row] = (await db
    .update(table)
    .set({ ...update.changes, ...touched(table) } as PgUpdateSetSource<T>)
    .where(and(eq(table.id, id), isNull(table.deletedAt), expected === undefined ? undefined : eq(table.version, expected)))
    .returning()) as RowOf<T>[];
  if (row) return row;
  const current = (await findRow(db, table, id)) as ResourceRow | undefined;
  if (!current) throw notFound(kind, id, fields.id);
  if (current.deletedAt) throw alreadyDeleted(kind, id, fields.id);
  throw etagMismatch(kind, id, etag, fields.etag);
}

/** Throws ETAG_MISMATCH unless the etag is empty or the row's current one; call it under the row lock. */
export function checkEtag(kind: string, row: ResourceRow, etag: string, field = "etag"): void {
  if (etag !== "" && versionOf(etag, row.id) !== row.version) throw etagMismatch(kind, row.id, etag, field);
}

/**
 * How many live rows of `table` point at `id` through `column`: the dependents a soft delete
 * must not leave behind. Run it under the row lock of the record being deleted, so that a row
 * being created against that record right now (which share-locks it) is counted.
 */
export async function countLiveReferences(tx: Db, table: ResourceTable, column: PgColumn, id: string): Promise<number> {
  const [found] = await tx
    .select({ n: count() })
    .from(table as PgTable)
    .where(and(eq(column, id), isNull(table.deletedAt)));
  return found?.n ?? 0;
}
