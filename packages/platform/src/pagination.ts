import { createHash } from "node:crypto";
import { gt, isNull, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { invalid } from "./errors.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** The page size a List call asked for: 0 means the default; negative or too large is refused. */
export function pageSizeOf(requested: number): number {
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  if (requested < 0 || requested > MAX_PAGE_SIZE) {
    throw invalid("page_size", "range", `page_size must be between 0 and ${MAX_PAGE_SIZE}`, requested);
  }
  return requested;
}

/**
 * Page tokens are opaque to callers: the keyset cursor of the last row returned, bound to the
 * filters of the call that made it. Keyset (not offset) paging never skips or repeats a row
 * when rows are inserted between calls.
 */
export function encodePageToken(cursor: readonly (string | number)[], filters: unknown): string {
  return Buffer.from(JSON.stringify({ c: cursor, f: fingerprint(filters) })).toString("base64url");
}

export function decodePageToken(token: string, filters: unknown): (string | number)[] | undefined {
  if (token === "") return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { c?: unknown; f?: unknown };
    if (Array.isArray(parsed.c) && parsed.f === fingerprint(filters)) return parsed.c as (string | number)[];
  } catch {
    // fall through to the error below
  }
  throw invalid("page_token", "page_token", "page_token is malformed or was made for different filters", token);
}

const fingerprint = (filters: unknown) => createHash("sha256").update(JSON.stringify(filters)).digest("base64url").slice(0, 16);

/** The paging fields every List request has (AIP-158). */
export interface ListRequest {
  pageSize: number;
  pageToken: string;
}

/** The filter fields every List of soft-deletable resources has; resource filters extend it. */
export interface LiveFilter {
  /** Include deleted resources (AIP-164). */
  showDeleted: boolean;
}

/** What a store function gets to read one page: the filters as one object, and the keyset cursor. */
export interface PageQuery<F> {
  filter: F;
  /** Read rows with an id after this one; undefined for the first page. */
  afterId: string | undefined;
  /** How many rows to read: one more than the page, to learn whether another page follows. */
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

/**
 * The page out of rows read one past the page size (so a further row says another page follows),
 * and the token of the next page: the cursor of the page's last row, bound to the filters. Every
 * keyset List ends with this, whatever its cursor is made of.
 */
export function pageFrom<R>(
  rows: readonly R[],
  size: number,
  cursorOf: (row: R) => readonly (string | number)[],
  filters: unknown,
): { page: R[]; nextPageToken: string } {
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return { page, nextPageToken: rows.length > size && last !== undefined ? encodePageToken(cursorOf(last), filters) : "" };
}

/**
 * One page of a keyset-paged List call over rows ordered by id. The filter object is the one
 * place a List call's filters live: the store reads it, and the page token is bound to it, so a
 * token cannot be replayed with other filters. Every List handler is the same three lines:
 * check the filter, `listPage(request, filter, (q) => listX(db, q), toX)`, return the page.
 */
export async function listPage<F, R extends { id: string }, T>(
  request: ListRequest,
  filter: F,
  fetch: (query: PageQuery<F>) => Promise<R[]>,
  map: (row: R) => T,
): Promise<Page<T>> {
  const size = pageSizeOf(request.pageSize);
  const [afterId] = decodePageToken(request.pageToken, filter) ?? [];
  const rows = await fetch({ filter, afterId: afterId === undefined ? undefined : String(afterId), limit: size + 1 });
  const { page, nextPageToken } = pageFrom(rows, size, (row) => [row.id], filter);
  return { items: page.map(map), nextPageToken };
}

/**
 * The WHERE terms every keyset page over a soft-deletable table shares: live rows unless
 * show_deleted, and ids after the cursor. Spread them into `and(...)` with the resource's own.
 */
export function pageConditions(columns: { id: PgColumn; deletedAt: PgColumn }, query: PageQuery<LiveFilter>): (SQL | undefined)[] {
  return [query.filter.showDeleted ? undefined : isNull(columns.deletedAt), query.afterId ? gt(columns.id, query.afterId) : undefined];
}
