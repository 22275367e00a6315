import { and, asc, eq, gt, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import {
  countLiveReferences,
  duplicate,
  findRow,
  inTransaction,
  pageConditions,
  softDelete,
  stillInUse,
  updateResource,
  violates,
  type Db,
  type LiveFilter,
  type PageQuery,
} from "@inv/platform";
import { uuidv7 } from "uuidv7";
import { containsPattern, type Price } from "../domain/item-rules.js";
import { lockLiveItemType } from "./item-types.js";
import { items, stockLevels, trackedUnits, type ItemRow } from "./schema.js";

export interface NewItem {
  sku: string;
  name: string;
  description: string;
  itemTypeId: string;
  unitOfMeasure: string;
  price: Price | null;
  imageUrl: string;
  attributes: Record<string, string>;
  /** inventory.v1.ItemStatus, never UNSPECIFIED. */
  status: number;
  defaultReorderPoint: number;
  defaultReorderQuantity: number;
  createdBy: string;
}

/** What an update may change (sku and unit of measure never change); `updatedBy` goes with every update. */
export type ItemChanges = Partial<
  Pick<NewItem, "name" | "description" | "itemTypeId" | "price" | "imageUrl" | "attributes" | "status" | "defaultReorderPoint" | "defaultReorderQuantity">
>;

export interface ItemFilter extends LiveFilter {
  itemTypeId?: string | undefined;
  status?: number | undefined;
  /** Every word must be found (case-insensitively) in the SKU, the name or the description. */
  words?: string[] | undefined;
  skus?: string[] | undefined;
  /** Every [key, value] must be an entry of the item's attributes. */
  attributes?: [string, string][] | undefined;
}

/** The three price columns of a price, or of no price (all null, as items_price_whole requires). */
const priceColumns = (price: Price | null) => ({
  priceCurrency: price?.currencyCode ?? null,
  priceUnits: price?.units ?? null,
  priceNanos: price?.nanos ?? null,
});

const skuTaken = (sku: string) => duplicate("item.sku", sku, `SKU "${sku}" is already in use`);

/**
 * Creates an item of a live item type. The type is share-locked until commit, so a concurrent
 * delete of it waits for this insert and then sees the item (and refuses).
 */
export async function insertItem(db: Db, i: NewItem): Promise<ItemRow> {
  return inTransaction(db, async (tx) => {
    await lockLiveItemType(tx, i.itemTypeId, "item.item_type_id");
    const { price, createdBy, ...plain } = i;
    try {
      const [row] = await tx
        .insert(items)
        .values({ id: uuidv7(), ...plain, ...priceColumns(price), createdBy, updatedBy: createdBy })
        .returning();
      return row!;
    } catch (err) {
      if (violates(err, "items_sku_live_uq")) throw skuTaken(i.sku);
      throw err;
    }
  });
}

/** The item with this id, deleted or not. Stock code reads items through this. */
export const findItem = (db: Db, id: string): Promise<ItemRow | undefined> => findRow(db, items, id);

/** The live item with exactly this SKU (case-sensitive), if any. Stock code reads items through this. */
export async function findLiveItemBySku(db: Db, sku: string): Promise<ItemRow | undefined> {
  const [row] = await db
    .select()
    .from(items)
    .where(and(eq(items.sku, sku), isNull(items.deletedAt)));
  return row;
}

/** One page in creation order (ids are UUIDv7), after the keyset cursor. */
export async function listItems(db: Db, query: PageQuery<ItemFilter>) {
  const { filter } = query;
  return db
    .select()
    .from(items)
    .where(
      and(
        ...pageConditions(items, query),
        filter.itemTypeId ? eq(items.itemTypeId, filter.itemTypeId) : undefined,
        filter.status === undefined ? undefined : eq(items.status, filter.status),
        filter.skus?.length ? inArray(items.sku, filter.skus) : undefined,
        ...(filter.words ?? []).map(wordMatches),
        ...(filter.attributes ?? []).map(([key, value]) => sql`${items.attributes} @> jsonb_build_object(${key}::text, ${value}::text)`),
      ),
    )
    .orderBy(asc(items.id))
    .limit(query.limit);
}

/** The word, its LIKE wildcards taken literally, found case-insensitively in the SKU, name or description. */
function wordMatches(word: string): SQL | undefined {
  const pattern = containsPattern(word);
  return or(
    sql`${items.sku} ILIKE ${pattern} ESCAPE '\\'`,
    sql`${items.name} ILIKE ${pattern} ESCAPE '\\'`,
    sql`${items.description} ILIKE ${pattern} ESCAPE '\\'`,
  );
}

/**
 * Changes a live item; with an etag, only if it is still current (checked in the UPDATE itself).
 * A new item type is share-locked first, so it cannot be deleted under this use.
 */
export async function updateItem(db: Db, id: string, etag: string, changes: ItemChanges, updatedBy: string): Promise<ItemRow> {
  return inTransaction(db, async (tx) => {
    if (changes.itemTypeId) await lockLiveItemType(tx, changes.itemTypeId, "item.item_type_id");
    const { price, ...plain } = changes;
    return updateResource(tx, items, {
      kind: "item",
      id,
      etag,
      changes: { ...plain, ...(price === undefined ? {} : priceColumns(price)), updatedBy },
      fields: { id: "item.id", etag: "item.etag" },
    });
  });
}

/**
 * Soft-deletes an item none of whose stock levels holds stock (on hand or reserved), recording
 * who deleted it in updated_by.
 */
export async function deleteItem(db: Db, id: string, etag: string, deletedBy: string): Promise<ItemRow> {
  return softDelete(db, items, {
    kind: "item",
    id,
    etag,
    also: { updatedBy: deletedBy },
    // Under the row lock (FOR UPDATE): every stock write takes FOR KEY SHARE on its item first,
    // so a write in flight commits before this check reads the levels, and a later one waits for
    // this delete and then finds the item deleted.
    dependents: async (tx) => {
      const [held] = await tx
        .select({ id: stockLevels.id })
        .from(stockLevels)
        .where(and(eq(stockLevels.itemId, id), or(gt(stockLevels.onHand, 0), gt(stockLevels.reserved, 0))))
        .limit(1);
      if (held) throw stillInUse(id, "has_stock", `item ${id} still has stock on hand or reserved; move, write off or release it first`);
      // Creating a tracked unit key-share-locks its item too, so a unit being created now is counted.
      const units = await countLiveReferences(tx, trackedUnits, trackedUnits.itemId, id);
      if (units > 0) throw stillInUse(id, "has_tracked_units", `item ${id} still has ${units} tracked unit(s); delete them first`);
    },
  });
}
