import { and, asc, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "@inv/platform";
import type { KeysetQuery } from "./paging.js";
import { auditEvents, type AuditEventRow, type NewAuditEvent } from "./schema.js";

export interface AuditFilter {
  actorId?: string | undefined;
  service?: string | undefined;
  method?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  /** Stored outcome names ("success", "denied", "failure"). */
  outcomes?: string[] | undefined;
  requestId?: string | undefined;
  /** ISO times (the filter object is hashed into page tokens, so it holds plain values). */
  startTime?: string | undefined;
  endTime?: string | undefined;
  oldestFirst: boolean;
}

/** Stores records once per id; returns how many were new (a relay's retry adds nothing). */
export async function insertAuditEvents(db: Db, rows: readonly NewAuditEvent[]): Promise<number> {
  if (rows.length === 0) return 0;
  const stored = await db
    .insert(auditEvents)
    .values([...rows])
    .onConflictDoNothing({ target: auditEvents.id })
    .returning({ id: auditEvents.id });
  return stored.length;
}

/** One page by occur time, newest first unless oldest_first; ids break ties. */
export async function listAuditEvents(db: Db, query: KeysetQuery<AuditFilter>): Promise<AuditEventRow[]> {
  const f = query.filter;
  const t = auditEvents;
  const cursor = query.after
    ? f.oldestFirst
      ? sql`(${t.occurTime}, ${t.id}) > (${String(query.after[0])}::timestamptz, ${String(query.after[1])}::uuid)`
      : sql`(${t.occurTime}, ${t.id}) < (${String(query.after[0])}::timestamptz, ${String(query.after[1])}::uuid)`
    : undefined;
  return db
    .select()
    .from(t)
    .where(
      and(
        f.actorId ? eq(t.actorId, f.actorId) : undefined,
        f.service ? eq(t.service, f.service) : undefined,
        f.method ? eq(t.method, f.method) : undefined,
        f.resourceType ? eq(t.resourceType, f.resourceType) : undefined,
        f.resourceId ? eq(t.resourceId, f.resourceId) : undefined,
        f.outcomes?.length ? inArray(t.outcome, f.outcomes) : undefined,
        f.requestId ? eq(t.requestId, f.requestId) : undefined,
        f.startTime ? gte(t.occurTime, new Date(f.startTime)) : undefined,
        f.endTime ? lt(t.occurTime, new Date(f.endTime)) : undefined,
        cursor,
      ),
    )
    .orderBy(...(f.oldestFirst ? [asc(t.occurTime), asc(t.id)] : [desc(t.occurTime), desc(t.id)]))
    .limit(query.limit);
}
