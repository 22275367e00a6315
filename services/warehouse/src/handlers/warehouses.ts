import {
  CACHE_TTL,
  NAME_MAX,
  audited,
  cachedResource,
  checkFields,
  fieldsToUpdate,
  invalid,
  listPage,
  messageCodec,
  presentIn,
  type AuditFacts,
  type FieldChecker,
  type ServiceImpl,
} from "@inv/platform";
import { WarehouseSchema, type Warehouse, type WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { ADDRESS_PATHS, EMPTY_ADDRESS, addressKeyOf, checkAddress, checkPriority } from "../domain/rules.js";
import { toWarehouse } from "../mapping.js";
import { createOnce } from "../store/requests.js";
import { deleteWarehouse, findWarehouse, insertWarehouse, listWarehouses, updateWarehouse, type WarehouseChanges } from "../store/warehouses.js";
import type { WarehouseDeps } from "./deps.js";

type Impl = ServiceImpl<typeof WarehouseService>;

/**
 * Cached warehouses were proto JSON under `warehouse:<id>` before they were binary protobuf
 * (cachedResource); writers invalidate that key too until every replica runs this version (an
 * hour's TTL).
 */
const legacyCacheKey = (id: string) => `warehouse:${id}`;
const MUTABLE = ["name", "address", "priority", "active"];

/** What the audit trail records about a change to a warehouse. */
const facts = (row: { id: string; code: string }, more: Record<string, unknown> = {}): AuditFacts => ({
  resourceType: "Warehouse",
  resourceId: row.id,
  details: { code: row.code, ...more },
});

/** The changes an update makes, from the fields its mask (or AIP-134) chose, each checked. */
function changesOf(v: FieldChecker, w: Warehouse, fields: readonly string[]): WarehouseChanges {
  const changes: WarehouseChanges = {};
  const address = w.address ?? EMPTY_ADDRESS;
  for (const field of fields) {
    if (field === "name") changes.name = v.text("warehouse.name", w.name, { max: NAME_MAX, required: true });
    else if (field === "priority") changes.priority = checkPriority(v, "warehouse.priority", w.priority);
    else if (field === "active") changes.active = w.active ?? false;
    else if (field === "address") changes.address = { ...changes.address, ...checkAddress(v, "warehouse.address", address) };
    else changes.address = { ...changes.address, ...checkAddress(v, "warehouse.address", address, [addressKeyOf(field.slice("address.".length))!]) };
  }
  return changes;
}

export function warehouseHandlers({ db, cache, stock, changed }: WarehouseDeps) {
  const cached = cachedResource({ cache, schema: WarehouseSchema, kind: "warehouse", keyPrefix: "warehouse.pb", ttlSeconds: CACHE_TTL.warehouse });
  const createWarehouse: Impl["createWarehouse"] = async ({ warehouse: w, requestId }, ctx) => {
    if (!w) throw invalid("warehouse", "required", "warehouse is required");
    const { values, once } = checkFields((v) => ({
      once: v.requestId("request_id", requestId),
      values: {
        code: v.code("warehouse.code", w.code),
        name: v.text("warehouse.name", w.name, { max: NAME_MAX, required: true }),
        address: checkAddress(v, "warehouse.address", w.address ?? EMPTY_ADDRESS),
        priority: checkPriority(v, "warehouse.priority", w.priority),
        active: w.active ?? true,
      },
    }));
    const request = { scope: "CreateWarehouse", requestId: once, payload: values, codec: messageCodec(WarehouseSchema) };
    const warehouse = await createOnce(db, request, async (tx) => {
      const row = await insertWarehouse(tx, values);
      await ctx.audit(tx, facts(row));
      return toWarehouse(row);
    });
    // A new warehouse changes the list of active ones that others keep (the reservation service's).
    await changed(warehouse.id);
    return { warehouse };
  };

  const getWarehouse: Impl["getWarehouse"] = async ({ id }) => ({
    warehouse: await cached.get(id, async (key) => {
      const row = await findWarehouse(db, key);
      return row && toWarehouse(row);
    }),
  });

  const listWarehousesHandler: Impl["listWarehouses"] = async (req) => {
    const filter = { active: req.active, code: req.code || undefined, showDeleted: req.showDeleted };
    const page = await listPage(req, filter, (query) => listWarehouses(db, query), toWarehouse);
    return { warehouses: page.items, nextPageToken: page.nextPageToken };
  };

  const updateWarehouseHandler: Impl["updateWarehouse"] = async ({ warehouse: w, updateMask }, ctx) => {
    if (!w) throw invalid("warehouse", "required", "warehouse is required");
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: MUTABLE, nested: { address: ADDRESS_PATHS }, present: presentIn(WarehouseSchema, w) });
    const { id, changes } = checkFields((v) => ({ id: v.id("warehouse.id", w.id), changes: changesOf(v, w, fields) }));
    const row = await audited(
      db,
      ctx,
      (tx) => updateWarehouse(tx, id, w.etag, changes),
      (r) => facts(r, { fields }),
    );
    await cache.invalidate(cached.keyOf(id), legacyCacheKey(id));
    await changed(id);
    return { warehouse: toWarehouse(row) };
  };

  const deleteWarehouseHandler: Impl["deleteWarehouse"] = async ({ id, etag }, ctx) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await audited(db, ctx, (tx) => deleteWarehouse(tx, key, etag, stock), facts);
    await cache.invalidate(cached.keyOf(key), legacyCacheKey(key));
    await changed(key);
    return { warehouse: toWarehouse(row) };
  };

  return {
    createWarehouse,
    getWarehouse,
    listWarehouses: listWarehousesHandler,
    updateWarehouse: updateWarehouseHandler,
    deleteWarehouse: deleteWarehouseHandler,
  } satisfies Partial<Impl>;
}
