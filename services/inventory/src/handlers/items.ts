import {
  actorOf,
  CACHE_TTL,
  NAME_MAX,
  audited,
  cachedResource,
  checkFields,
  fieldsToUpdate,
  invalid,
  listPage,
  messageCodec,
  notFound,
  presentIn,
  registration,
  type AuditFacts,
  type FieldChecker,
  type ServiceImpl,
} from "@inv/platform";
import { ItemSchema, ItemService, type Item } from "@inv/gen/inventory/v1/item_pb";
import {
  ITEM_DESCRIPTION_MAX,
  checkAttributeFilter,
  checkAttributes,
  checkImageUrl,
  checkPrice,
  checkReorder,
  checkSku,
  checkSkuFilter,
  checkStatus,
  checkStatusFilter,
  checkUnitOfMeasure,
  searchWords,
} from "../domain/item-rules.js";
import { toItem } from "../item-mapping.js";
import { createOnce } from "../store/item-types.js";
import { deleteItem, findItem, findLiveItemBySku, insertItem, listItems, updateItem, type ItemChanges, type ItemFilter } from "../store/items.js";
import type { InventoryDeps } from "./deps.js";
import { itemTypeHandlers } from "./item-types.js";
import { invalidateStock } from "../stock-ops.js";
import { levelsOfItem } from "../store/stock-reads.js";

type Impl = ServiceImpl<typeof ItemService>;

const MUTABLE = ["name", "description", "item_type_id", "price", "image_url", "attributes", "status", "default_reorder_point", "default_reorder_quantity"];
/** Fixed at create: quantities would change meaning if the unit changed, and stock refers to items by SKU. */
const IMMUTABLE = ["sku", "unit_of_measure"];

/** What the audit trail records about a change to an item. */
const facts = (row: { id: string; sku: string }, more: Record<string, unknown> = {}): AuditFacts => ({
  resourceType: "Item",
  resourceId: row.id,
  details: { sku: row.sku, ...more },
});

/** The changes an update makes, from the fields its mask (or AIP-134) chose, each checked. */
function changesOf(v: FieldChecker, i: Item, fields: readonly string[]): ItemChanges {
  const changes: ItemChanges = {};
  for (const field of fields) {
    if (field === "name") changes.name = v.text("item.name", i.name, { max: NAME_MAX, required: true });
    else if (field === "description") changes.description = v.text("item.description", i.description, { max: ITEM_DESCRIPTION_MAX });
    else if (field === "item_type_id") changes.itemTypeId = v.id("item.item_type_id", i.itemTypeId);
    else if (field === "price") changes.price = checkPrice(v, "item.price", i.price);
    else if (field === "image_url") changes.imageUrl = checkImageUrl(v, "item.image_url", i.imageUrl);
    else if (field === "attributes") changes.attributes = checkAttributes(v, "item.attributes", i.attributes);
    else if (field === "status") changes.status = checkStatus(v, "item.status", i.status, { create: false });
    else if (field === "default_reorder_point") changes.defaultReorderPoint = checkReorder(v, "item.default_reorder_point", i.defaultReorderPoint);
    else changes.defaultReorderQuantity = checkReorder(v, "item.default_reorder_quantity", i.defaultReorderQuantity);
  }
  return changes;
}

export function itemHandlers({ db, cache }: InventoryDeps) {
  const cached = cachedResource({ cache, schema: ItemSchema, kind: "item", keyPrefix: "item.pb", ttlSeconds: CACHE_TTL.item });
  const createItem: Impl["createItem"] = async ({ item: i, requestId }, ctx) => {
    if (!i) throw invalid("item", "required", "item is required");
    const { values, once } = checkFields((v) => ({
      once: v.requestId("request_id", requestId),
      values: {
        sku: checkSku(v, "item.sku", i.sku),
        name: v.text("item.name", i.name, { max: NAME_MAX, required: true }),
        description: v.text("item.description", i.description, { max: ITEM_DESCRIPTION_MAX }),
        itemTypeId: v.id("item.item_type_id", i.itemTypeId),
        unitOfMeasure: checkUnitOfMeasure(v, "item.unit_of_measure", i.unitOfMeasure),
        price: checkPrice(v, "item.price", i.price),
        imageUrl: checkImageUrl(v, "item.image_url", i.imageUrl),
        attributes: checkAttributes(v, "item.attributes", i.attributes),
        status: checkStatus(v, "item.status", i.status, { create: true }),
        defaultReorderPoint: checkReorder(v, "item.default_reorder_point", i.defaultReorderPoint),
        defaultReorderQuantity: checkReorder(v, "item.default_reorder_quantity", i.defaultReorderQuantity),
        createdBy: actorOf(ctx.caller),
      },
    }));
    // The payload is hashed as JSON, which has no bigint: the price's units travel as a string.
    const payload = { ...values, price: values.price && { ...values.price, units: values.price.units.toString() } };
    const request = { scope: "CreateItem", requestId: once, payload, codec: messageCodec(ItemSchema) };
    return {
      item: await createOnce(db, request, async (tx) => {
        const row = await insertItem(tx, values);
        await ctx.audit(tx, facts(row));
        return toItem(row);
      }),
    };
  };

  const getItem: Impl["getItem"] = async ({ id }) => ({
    item: await cached.get(id, async (key) => {
      const row = await findItem(db, key);
      return row && toItem(row);
    }),
  });

  const getItemBySku: Impl["getItemBySku"] = async ({ sku }) => {
    const key = checkFields((v) => checkSku(v, "sku", sku));
    const row = await findLiveItemBySku(db, key);
    if (!row) throw notFound("item with SKU", key, "sku");
    return { item: toItem(row) };
  };

  const listItemsHandler: Impl["listItems"] = async (req) => {
    const filter: ItemFilter = checkFields((v) => ({
      itemTypeId: v.optionalId("item_type_id", req.itemTypeId) ?? undefined,
      status: checkStatusFilter(v, "status", req.status),
      words: searchWords(v, "query", req.query),
      skus: checkSkuFilter(v, "skus", req.skus),
      attributes: checkAttributeFilter(v, "attributes", req.attributes),
      showDeleted: req.showDeleted,
    }));
    const page = await listPage(req, filter, (query) => listItems(db, query), toItem);
    return { items: page.items, nextPageToken: page.nextPageToken };
  };

  const updateItemHandler: Impl["updateItem"] = async ({ item: i, updateMask }, ctx) => {
    if (!i) throw invalid("item", "required", "item is required");
    const fixed = updateMask?.paths.find((path) => IMMUTABLE.includes(path));
    if (fixed) throw invalid("update_mask", "immutable_field", `item.${fixed} cannot be changed once the item exists`, fixed);
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: MUTABLE, present: presentIn(ItemSchema, i) });
    const { id, changes } = checkFields((v) => ({ id: v.id("item.id", i.id), changes: changesOf(v, i, fields) }));
    const row = await audited(
      db,
      ctx,
      (tx) => updateItem(tx, id, i.etag, changes, actorOf(ctx.caller)),
      (r) => facts(r, { fields }),
    );
    await cache.invalidate(cached.keyOf(id));
    // Cached stock reads carry the item's status (DISCONTINUED, …): a new status must show there at once too.
    if (changes.status !== undefined) await invalidateStock(cache, await levelsOfItem(db, id));
    return { item: toItem(row) };
  };

  const deleteItemHandler: Impl["deleteItem"] = async ({ id, etag }, ctx) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await audited(db, ctx, (tx) => deleteItem(tx, key, etag, actorOf(ctx.caller)), facts);
    await cache.invalidate(cached.keyOf(key));
    return { item: toItem(row) };
  };

  return {
    createItem,
    getItem,
    getItemBySku,
    listItems: listItemsHandler,
    updateItem: updateItemHandler,
    deleteItem: deleteItemHandler,
  } satisfies Partial<Impl>;
}

/** Binds ItemService to its handlers: item types and items. */
export const itemService = (deps: InventoryDeps) => registration(ItemService, { ...itemTypeHandlers(deps), ...itemHandlers(deps) });
