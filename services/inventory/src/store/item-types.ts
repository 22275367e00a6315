import { and, asc, eq, sql } from "drizzle-orm";
import {
  alreadyDeleted,
  countLiveReferences,
  duplicate,
  findRow,
  lockRow,
  notFound,
  runIdempotent,
  softDelete,
  stillInUse,
  updateResource,
  violates,
  type Db,
  type LiveFilter,
  type ResponseCodec,
} from "@inv/platform";
import { uuidv7 } from "uuidv7";
import { idempotentRequests, itemTypes, items, type ItemTypeRow } from "./schema.js";

/**
 * Runs a Create of the item catalogue once per AIP-155 request id (see runIdempotent): the scope
 * is the RPC, the payload the cleaned request, and the stored answer is what every retry gets back.
 */
export const createOnce = <T>(
  db: Db,
  request: { scope: string; requestId: string; payload: unknown; codec: ResponseCodec<T> },
  work: (tx: Db) => Promise<T>,
): Promise<T> => runIdempotent(db, { table: idempotentRequests, ...request }, work);

export interface NewItemType {
  name: string;
  description: string;
  /** inventory.v1.ItemCategory, never UNSPECIFIED. */
  category: number;
  createdBy: string;
}

export type ItemTypeChanges = Partial<Pick<NewItemType, "name" | "description" | "category">>;

export interface ItemTypeFilter extends LiveFilter {
  category?: number | undefined;
}

/** A page of item types in name order: the keyset cursor is the (name, id) of the last row returned. */
export interface ItemTypePageQuery {
  filter: ItemTypeFilter;
  after: { name: string; id: string } | undefined;
  limit: number;
}

const NAME_TAKEN = "item_types_name_live_uq";
const nameTaken = (name: string) => duplicate("item_type.name", name, `an item type named "${name}" already exists`);

export async function insertItemType(db: Db, t: NewItemType): Promise<ItemTypeRow> {
  try {
    const [row] = await db
      .insert(itemTypes)
      .values({ id: uuidv7(), ...t })
      .returning();
    return row!;
  } catch (err) {
    if (violates(err, NAME_TAKEN)) throw nameTaken(t.name);
    throw err;
  }
}

export const findItemType = (db: Db, id: string) => findRow(db, itemTypes, id);

/**
 * One page ordered by name, then id (the index item_types_name_idx): rows after the cursor's
 * (name, id), compared as a row value in the same order, so no page skips or repeats a type.
 */
export async function listItemTypes(db: Db, query: ItemTypePageQuery) {
  const { filter, after } = query;
  return db
    .select()
    .from(itemTypes)
    .where(
      and(
        filter.showDeleted ? undefined : sql`${itemTypes.deletedAt} IS NULL`,
        filter.category === undefined ? undefined : eq(itemTypes.category, filter.category),
        after ? sql`(${itemTypes.name}, ${itemTypes.id}) > (${after.name}, ${after.id}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(itemTypes.name), asc(itemTypes.id))
    .limit(query.limit);
}

/** Changes a live item type; with an etag, only if it is still current (checked in the UPDATE itself). */
export async function updateItemType(db: Db, id: string, etag: string, changes: ItemTypeChanges): Promise<ItemTypeRow> {
  try {
    return await updateResource(db, itemTypes, { kind: "item type", id, etag, changes, fields: { id: "item_type.id", etag: "item_type.etag" } });
  } catch (err) {
    if (violates(err, NAME_TAKEN)) throw nameTaken(changes.name ?? "");
    throw err;
  }
}

/** Soft-deletes an item type that no live item uses. */
export async function deleteItemType(db: Db, id: string, etag: string): Promise<ItemTypeRow> {
  return softDelete(db, itemTypes, {
    kind: "item type",
    id,
    etag,
    // Under the row lock: creating an item (or moving one to this type) share-locks the type, so
    // an item being given this type right now is committed, and counted, before this check runs.
    dependents: async (tx) => {
      const used = await countLiveReferences(tx, items, items.itemTypeId, id);
      if (used > 0) throw stillInUse(id, "in_use", `item type ${id} is used by ${used} item(s); delete them or give them another type first`);
    },
  });
}

/**
 * Share-locks a live item type until the transaction ends, so it cannot be deleted under a new
 * use, and returns it. Missing is NOT_FOUND and deleted FAILED_PRECONDITION, both naming `field`.
 */
export async function lockLiveItemType(tx: Db, id: string, field: string): Promise<ItemTypeRow> {
  const row = await lockRow(tx, itemTypes, id, "share");
  if (!row) throw notFound("item type", id, field);
  if (row.deletedAt) throw alreadyDeleted("item type", id, field);
  return row;
}
