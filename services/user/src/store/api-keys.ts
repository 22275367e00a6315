import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import { notFound, type Db, type PageQuery } from "@inv/platform";
import { uuidv7 } from "uuidv7";
import { apiKeys, users, type ApiKeyRow, type UserRow } from "./schema.js";

export interface NewApiKey {
  name: string;
  prefix: string;
  secretHash: string;
  role: string;
  ownerUserId: string;
  expireAt: Date | null;
}

export interface ApiKeyFilter {
  ownerUserId: string | undefined;
  role: string | undefined;
  showInactive: boolean;
}

/** Usable now: not revoked and not past its expiry. */
const usable = () => and(isNull(apiKeys.revokedAt), or(isNull(apiKeys.expireAt), gt(apiKeys.expireAt, sql`now()`)));

export async function insertApiKey(tx: Db, key: NewApiKey): Promise<ApiKeyRow> {
  const [row] = await tx
    .insert(apiKeys)
    .values({ id: uuidv7(), ...key })
    .returning();
  return row!;
}

export async function findApiKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

/** One page in creation order (ids are UUIDv7). */
export async function listApiKeys(db: Db, query: PageQuery<ApiKeyFilter>): Promise<ApiKeyRow[]> {
  const { filter } = query;
  return db
    .select()
    .from(apiKeys)
    .where(
      and(
        query.afterId ? gt(apiKeys.id, query.afterId) : undefined,
        filter.showInactive ? undefined : usable(),
        filter.ownerUserId ? eq(apiKeys.ownerUserId, filter.ownerUserId) : undefined,
        filter.role ? eq(apiKeys.role, filter.role) : undefined,
      ),
    )
    .orderBy(apiKeys.id)
    .limit(query.limit);
}

/** Revokes a key; a revoked key is returned as it is, so a retried revoke succeeds. */
export async function revokeApiKey(tx: Db, id: string, by: string | null): Promise<{ row: ApiKeyRow; changed: boolean }> {
  const [revoked] = await tx
    .update(apiKeys)
    .set({ revokedAt: sql`now()`, revokedBy: by })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  if (revoked) return { row: revoked, changed: true };
  const row = await findApiKey(tx, id);
  if (!row) throw notFound("API key", id);
  return { row, changed: false };
}

/** Revokes every usable key a user owns (the user is being deleted); returns their ids. */
export async function revokeKeysOf(tx: Db, ownerUserId: string, by: string | null): Promise<string[]> {
  const revoked = await tx
    .update(apiKeys)
    .set({ revokedAt: sql`now()`, revokedBy: by })
    .where(and(eq(apiKeys.ownerUserId, ownerUserId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return revoked.map((k) => k.id);
}

/** The usable key with this secret hash and its owner, when the owner is live and active. */
export async function findUsableKey(db: Db, secretHash: string): Promise<{ key: ApiKeyRow; owner: UserRow } | undefined> {
  const [found] = await db
    .select()
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.ownerUserId))
    .where(and(eq(apiKeys.secretHash, secretHash), usable(), eq(users.active, true), isNull(users.deletedAt)));
  return found ? { key: found.api_keys, owner: found.users } : undefined;
}

/**
 * Records a use to the minute, writing at most once a minute per key: the WHERE clause skips
 * the write while the stored minute is current, so a busy key costs no write per call.
 */
export async function touchApiKey(db: Db, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`date_trunc('minute', now())` })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), sql`${apiKeys.lastUsedAt} < date_trunc('minute', now())`)));
}
