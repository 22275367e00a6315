import { and, gt, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import { inTransaction, type Db } from "@inv/platform";
import { signingKeys, type SigningKeyRow } from "./schema.js";

/** Keys not yet retired: the ones the JWKS lists and tokens may be verified with. */
export async function listPublishedKeys(db: Db, now: Date): Promise<SigningKeyRow[]> {
  return db
    .select()
    .from(signingKeys)
    .where(or(isNull(signingKeys.retireAfter), gt(signingKeys.retireAfter, now)))
    .orderBy(signingKeys.signFrom);
}

export async function insertKey(db: Db, key: typeof signingKeys.$inferInsert): Promise<void> {
  await db.insert(signingKeys).values(key);
}

/** Marks every key that signs before `before` and has no retire time yet to retire at `at`. */
export async function retireKeysBefore(db: Db, before: Date, at: Date): Promise<void> {
  await db
    .update(signingKeys)
    .set({ retireAfter: at })
    .where(and(lt(signingKeys.signFrom, before), isNull(signingKeys.retireAfter)));
}

/** Deletes keys whose last token has expired. */
export async function deleteRetiredKeys(db: Db, now: Date): Promise<void> {
  await db.delete(signingKeys).where(and(isNotNull(signingKeys.retireAfter), lt(signingKeys.retireAfter, now)));
}

/**
 * Runs key maintenance under a transaction-scoped advisory lock, so replicas starting or
 * housekeeping together make one decision (one new key), not one each.
 */
export function withKeyLock<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('user:signing-keys'))`);
    return work(tx);
  });
}
