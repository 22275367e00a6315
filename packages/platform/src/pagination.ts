import { createHash } from "node:crypto";
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

/**
 * One page of a keyset-paged List call over rows ordered by id: reads one row more than the
 * page to learn whether another page follows.
 */
export async function listPage<R extends { id: string }, T>(
  request: { pageSize: number; pageToken: string },
  filters: unknown,
  fetch: (afterId: string | undefined, limit: number) => Promise<R[]>,
  map: (row: R) => T,
): Promise<{ items: T[]; nextPageToken: string }> {
  const size = pageSizeOf(request.pageSize);
  const [afterId] = decodePageToken(request.pageToken, filters) ?? [];
  const rows = await fetch(afterId === undefined ? undefined : String(afterId), size + 1);
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return { items: page.map(map), nextPageToken: rows.length > size && last ? encodePageToken([last.id], filters) : "" };
}
