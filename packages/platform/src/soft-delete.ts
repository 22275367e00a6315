import { eq, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import { inTransaction, type Db } from "./db.js";
import { notFound } from "./resource-errors.js";
import { checkEtag, lockRow, touched, type ResourceRow, type ResourceTable, type RowOf } from "./resource-table.js";

export interface SoftDelete<T extends ResourceTable> {
  /** The resource in words, for errors: "warehouse". */
  kind: string;
  id: string;
  /** The caller's etag; empty to delete whatever the current state. */
  etag: string;
  /**
   * Throws (usually `stillInUse`) when live records still depend on the row. Runs under the
   * row lock, after the etag check.
   */
  dependents?: (tx: Db, row: RowOf<T>) => Promise<void>;
  /** Further changes made with the delete, e.g. `{ active: false }`. */
  also?: PgUpdateSetSource<T>;
}

/**
 * Soft-deletes a resource: sets deleted_at (and bumps the version) once nothing depends on it.
 *
 * The row is locked FOR UPDATE first, which is what makes the checks true at commit: anything
 * created under this row share-locks it (see lockRow), so the dependents check waits for such a
 * create to commit and then sees it; a concurrent update waits for the delete, then finds the
 * row deleted; and of two concurrent deletes, the second waits and then finds the first's result.
 *
 * A missing row is NOT_FOUND. A row already deleted is returned as it is, without the etag
 * check, so a retried delete succeeds (the method can be marked IDEMPOTENT).
 */
export async function softDelete<T extends ResourceTable>(db: Db, table: T, del: SoftDelete<T>): Promise<RowOf<T>> {
  return inTransaction(db, async (tx) => {
    const row = await lockRow(tx, table, del.id, "update");
    if (!row) throw notFound(del.kind, del.id);
    const current = row as unknown as ResourceRow;
    if (current.deletedAt) return row;
    checkEtag(del.kind, current, del.etag);
    await del.dependents?.(tx, row);
    const [deleted] = (await tx
      .update(table)
      .set({ ...del.also, ...touched(table), deletedAt: sql`now()` } as PgUpdateSetSource<T>)
      .where(eq(table.id, del.id))
      .returning()) as RowOf<T>[];
    return deleted!;
  });
}
