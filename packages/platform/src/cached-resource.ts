import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { readThrough, type Cache } from "./cache.js";
import { messageCodec } from "./binary.js";
import { notFound } from "./resource-errors.js";
import { checkFields } from "./validation.js";

/**
 * A resource that Get<Resource> reads by id through the read cache. Its entries hold the message
 * as binary protobuf in base64 (decoding that costs a fraction of proto JSON) under
 * `<keyPrefix>:<id>`; every write of the resource drops its entry with `keyOf`.
 */
export interface CachedResource<T> {
  /** The cache key of the resource with this id: what a writer invalidates. */
  keyOf(id: string): string;
  /**
   * The resource whose id the request's `id` field names (checked first: INVALID_ARGUMENT), from
   * the cache or else from `load`, which caches it; NOT_FOUND when `load` finds none.
   */
  get(id: string, load: (id: string) => Promise<T | undefined>): Promise<T>;
}

export interface CachedResourceOptions<Desc extends DescMessage> {
  cache: Cache;
  schema: Desc;
  /** The resource in words, for NOT_FOUND: "warehouse", "item". */
  kind: string;
  /** Change it whenever the stored form changes, so that no reader meets the old one. */
  keyPrefix: string;
  ttlSeconds: number;
}

export function cachedResource<Desc extends DescMessage>(opts: CachedResourceOptions<Desc>): CachedResource<MessageShape<Desc>> {
  const codec = messageCodec(opts.schema);
  const keyOf = (id: string) => `${opts.keyPrefix}:${id}`;
  return {
    keyOf,
    async get(id, load) {
      const checked = checkFields((v) => v.id("id", id));
      const found = await readThrough(opts.cache, keyOf(checked), opts.ttlSeconds, () => load(checked), codec);
      if (found === undefined) throw notFound(opts.kind, checked);
      return found;
    },
  };
}
