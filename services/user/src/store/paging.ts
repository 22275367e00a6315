import { decodePageToken, invalid, type Page, pageFrom } from "@inv/platform";

/** What a store function gets to read one keyset page: the filters, the cursor, and how many rows. */
export interface KeysetQuery<F> {
  filter: F;
  /** The sort key of the last row of the previous page; undefined for the first page. */
  after: (string | number)[] | undefined;
  /** One more than the page, to learn whether another page follows. */
  limit: number;
}

/**
 * One page of a List call over rows in any keyset order (the platform's listPage pages by id;
 * users go by username, roles by name and audit records by time). The page token carries the
 * sort key of the last row, bound to the filters as listPage binds its own.
 */
export async function keysetPage<F, R, T>(
  request: { pageSize: number; pageToken: string },
  filter: F,
  sizes: { default: number; max: number },
  fetch: (query: KeysetQuery<F>) => Promise<R[]>,
  cursorOf: (row: R) => (string | number)[],
  map: (row: R) => T,
): Promise<Page<T>> {
  if (request.pageSize < 0 || request.pageSize > sizes.max) {
    throw invalid("page_size", "range", `page_size must be between 0 and ${sizes.max}`, request.pageSize);
  }
  const size = request.pageSize === 0 ? sizes.default : request.pageSize;
  const after = decodePageToken(request.pageToken, filter);
  const rows = await fetch({ filter, after, limit: size + 1 });
  const { page, nextPageToken } = pageFrom(rows, size, cursorOf, filter);
  return { items: page.map(map), nextPageToken };
}
