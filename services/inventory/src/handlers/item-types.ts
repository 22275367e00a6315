import {
  actorOf,
  DESCRIPTION_MAX,
  NAME_MAX,
  UUID_PATTERN,
  audited,
  checkFields,
  decodePageToken,
  fieldsToUpdate,
  invalid,
  messageCodec,
  notFound,
  pageSizeOf,
  presentIn,
  type AuditFacts,
  type ServiceImpl,
  pageFrom,
} from "@inv/platform";
import { ItemTypeSchema, type ItemService } from "@inv/gen/inventory/v1/item_pb";
import { checkCategory, checkCategoryFilter } from "../domain/item-rules.js";
import { toItemType } from "../item-mapping.js";
import {
  createOnce,
  deleteItemType,
  findItemType,
  insertItemType,
  listItemTypes,
  updateItemType,
  type ItemTypeChanges,
  type ItemTypeFilter,
} from "../store/item-types.js";
import type { InventoryDeps } from "./deps.js";

type Impl = ServiceImpl<typeof ItemService>;

const MUTABLE = ["name", "description", "category"];

/** What the audit trail records about a change to an item type. */
const facts = (row: { id: string; name: string }, more: Record<string, unknown> = {}): AuditFacts => ({
  resourceType: "ItemType",
  resourceId: row.id,
  details: { name: row.name, ...more },
});

/**
 * The keyset cursor of a ListItemTypes page token: the (name, id) of the last item type returned.
 * The token is bound to the filter (see decodePageToken); a cursor of another shape is refused.
 */
function cursorOf(pageToken: string, filter: ItemTypeFilter): { name: string; id: string } | undefined {
  const cursor = decodePageToken(pageToken, filter);
  if (!cursor) return undefined;
  const [name, id] = cursor;
  if (cursor.length !== 2 || typeof name !== "string" || typeof id !== "string" || !UUID_PATTERN.test(id)) {
    throw invalid("page_token", "page_token", "page_token is malformed or was made for different filters", pageToken);
  }
  return { name, id };
}

export function itemTypeHandlers({ db }: InventoryDeps) {
  const createItemType: Impl["createItemType"] = async ({ itemType: t, requestId }, ctx) => {
    if (!t) throw invalid("item_type", "required", "item_type is required");
    const { values, once } = checkFields((v) => ({
      once: v.requestId("request_id", requestId),
      values: {
        name: v.text("item_type.name", t.name, { max: NAME_MAX, required: true }),
        description: v.text("item_type.description", t.description, { max: DESCRIPTION_MAX }),
        category: checkCategory(v, "item_type.category", t.category),
        createdBy: actorOf(ctx.caller),
      },
    }));
    const request = { scope: "CreateItemType", requestId: once, payload: values, codec: messageCodec(ItemTypeSchema) };
    return {
      itemType: await createOnce(db, request, async (tx) => {
        const row = await insertItemType(tx, values);
        await ctx.audit(tx, facts(row));
        return toItemType(row);
      }),
    };
  };

  const getItemType: Impl["getItemType"] = async ({ id }) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await findItemType(db, key);
    if (!row) throw notFound("item type", key);
    return { itemType: toItemType(row) };
  };

  /** Ordered by name, so paged by (name, id) rather than by id alone as listPage does. */
  const listItemTypesHandler: Impl["listItemTypes"] = async (req) => {
    const filter: ItemTypeFilter = checkFields((v) => ({ category: checkCategoryFilter(v, "category", req.category), showDeleted: req.showDeleted }));
    const size = pageSizeOf(req.pageSize);
    const rows = await listItemTypes(db, { filter, after: cursorOf(req.pageToken, filter), limit: size + 1 });
    const { page, nextPageToken } = pageFrom(rows, size, (t) => [t.name, t.id], filter);
    return { itemTypes: page.map(toItemType), nextPageToken };
  };

  const updateItemTypeHandler: Impl["updateItemType"] = async ({ itemType: t, updateMask }, ctx) => {
    if (!t) throw invalid("item_type", "required", "item_type is required");
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: MUTABLE, present: presentIn(ItemTypeSchema, t) });
    const { id, changes } = checkFields((v) => {
      const changes: ItemTypeChanges = {};
      if (fields.includes("name")) changes.name = v.text("item_type.name", t.name, { max: NAME_MAX, required: true });
      if (fields.includes("description")) changes.description = v.text("item_type.description", t.description, { max: DESCRIPTION_MAX });
      if (fields.includes("category")) changes.category = checkCategory(v, "item_type.category", t.category);
      return { id: v.id("item_type.id", t.id), changes };
    });
    return {
      itemType: toItemType(
        await audited(
          db,
          ctx,
          (tx) => updateItemType(tx, id, t.etag, changes),
          (r) => facts(r, { fields }),
        ),
      ),
    };
  };

  const deleteItemTypeHandler: Impl["deleteItemType"] = async ({ id, etag }, ctx) => {
    const key = checkFields((v) => v.id("id", id));
    return { itemType: toItemType(await audited(db, ctx, (tx) => deleteItemType(tx, key, etag), facts)) };
  };

  return {
    createItemType,
    getItemType,
    listItemTypes: listItemTypesHandler,
    updateItemType: updateItemTypeHandler,
    deleteItemType: deleteItemTypeHandler,
  } satisfies Partial<Impl>;
}
