import { createHash } from "node:crypto";

/**
 * AIP-154 etags from a row's `version`: an integer column every update increments in the same
 * statement. A version (rather than a hash of the update time) is exact and monotonic: two
 * updates in the same millisecond, a clock stepping back, or the microseconds JavaScript dates
 * drop cannot give two states one etag, and the check is one integer comparison that fits in an
 * UPDATE's WHERE clause. The short digest binds the etag to its resource, so an etag read from
 * one resource never matches another that happens to have the same version.
 */
export function etagOf(id: string, version: number): string {
  return `${version}-${digest(id, version)}`;
}

/**
 * The version an etag was made from, if it was made for this resource; undefined for anything
 * else (malformed, or another resource's), which can therefore never match the current version.
 */
export function versionOf(etag: string, id: string): number | undefined {
  const match = /^(\d{1,15})-([0-9a-f]{12})$/.exec(etag);
  if (!match) return undefined;
  const version = Number(match[1]);
  return digest(id, version) === match[2] ? version : undefined;
}

const digest = (id: string, version: number) => createHash("sha256").update(`${id}@${version}`).digest("hex").slice(0, 12);
