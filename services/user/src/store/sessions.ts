import { and, eq, gt, inArray, isNull, ne, sql } from "drizzle-orm";
import type { Db } from "@inv/platform";
import { uuidv7 } from "uuidv7";
import { newRefreshToken, sha256 } from "../tokens/secrets.js";
import { refreshTokens, sessions, users, type SessionRow, type UserRow } from "./schema.js";

/** Why a session ended, as stored in revoke_reason. */
export type RevokeReason = "logout" | "refresh_reuse" | "password_set" | "password_changed" | "user_deactivated" | "user_deleted";

/** Starts a session with its first refresh token; returns the token (stored only as its hash). */
export async function startSession(tx: Db, userId: string, expiresAt: Date): Promise<{ session: SessionRow; refreshToken: string }> {
  const [session] = await tx.insert(sessions).values({ id: uuidv7(), userId, expiresAt }).returning();
  const refreshToken = newRefreshToken(session!.id);
  await tx.insert(refreshTokens).values({ hash: sha256(refreshToken), sessionId: session!.id, expiresAt });
  return { session: session!, refreshToken };
}

/** What presenting a refresh token leads to. */
export type Rotation =
  | { outcome: "rotated"; session: SessionRow; user: UserRow; refreshToken: string; expiresAt: Date }
  | { outcome: "reused"; session: SessionRow }
  | { outcome: "refused" };

/**
 * Exchanges a refresh token for a new one, in one transaction under the token's row lock.
 * A token already rotated is reuse (someone kept a copy): the whole session is revoked, which
 * the caller must commit before failing the call. Of two concurrent refreshes with one token,
 * the second waits for the lock, sees the rotation and so ends the session: a client that
 * races itself is indistinguishable from a thief.
 */
export async function rotateRefreshToken(tx: Db, token: string, sessionId: string, expiresAt: Date): Promise<Rotation> {
  const hash = sha256(token);
  const [stored] = await tx.select().from(refreshTokens).where(eq(refreshTokens.hash, hash)).for("update");
  if (!stored || stored.sessionId !== sessionId) return { outcome: "refused" };
  const [session] = await tx.select().from(sessions).where(eq(sessions.id, sessionId)).for("update");
  const [user] = session ? await tx.select().from(users).where(eq(users.id, session.userId)) : [];
  if (!session || !user) return { outcome: "refused" };
  const now = Date.now();
  if (session.revokedAt || session.expiresAt.getTime() <= now) return { outcome: "refused" };
  if (stored.rotatedAt) {
    await revokeSessions(tx, { ids: [session.id] }, "refresh_reuse");
    return { outcome: "reused", session };
  }
  if (stored.expiresAt.getTime() <= now || !user.active || user.deletedAt) return { outcome: "refused" };
  const refreshToken = newRefreshToken(session.id);
  const next = sha256(refreshToken);
  await tx.insert(refreshTokens).values({ hash: next, sessionId: session.id, expiresAt });
  await tx.update(refreshTokens).set({ rotatedAt: sql`now()`, replacedBy: next }).where(eq(refreshTokens.hash, hash));
  const [extended] = await tx.update(sessions).set({ expiresAt }).where(eq(sessions.id, session.id)).returning();
  return { outcome: "rotated", session: extended!, user, refreshToken, expiresAt };
}

/** Which live sessions to end: some by id, or every one of a user (but one). */
export type SessionSelector = { ids: readonly string[] } | { userId: string; except?: string | undefined };

/** Ends live sessions; returns the ids of those it ended (already ended ones are left alone). */
export async function revokeSessions(tx: Db, which: SessionSelector, reason: RevokeReason): Promise<string[]> {
  const target =
    "ids" in which
      ? which.ids.length > 0
        ? inArray(sessions.id, [...which.ids])
        : sql`false`
      : and(eq(sessions.userId, which.userId), which.except ? ne(sessions.id, which.except) : undefined);
  const ended = await tx
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokeReason: reason })
    .where(and(target, isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`)))
    .returning({ id: sessions.id });
  return ended.map((s) => s.id);
}

/** A live session of a live, active user, with that user: what an access token stands for. */
export async function findLiveSession(db: Db, sessionId: string, userId: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const [found] = await db
    .select()
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.id, sessionId),
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql`now()`),
        eq(users.active, true),
        isNull(users.deletedAt),
      ),
    );
  return found ? { session: found.sessions, user: found.users } : undefined;
}
