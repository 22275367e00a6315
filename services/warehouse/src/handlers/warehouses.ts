import { fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { CACHE_TTL, NotFound, invalid, listPage, readThrough, type ServiceImpl } from "@inv/platform";
import { WarehouseSchema, type Warehouse, type WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { fieldsToUpdate } from "../domain/field-mask.js";
import { ENTITY_CODE, addressKeyOf, checkAddress, checkCode, checkId, checkPriority, checkText, type AddressInput } from "../domain/rules.js";
import { toWarehouse } from "../mapping.js";
import { deleteWarehouse, findWarehouse, insertWarehouse, listWarehouses, updateWarehouse, type WarehouseChanges } from "../store/warehouses.js";
import type { WarehouseDeps } from "./deps.js";

type Impl = ServiceImpl<typeof WarehouseService>;

const EMPTY_ADDRESS: AddressInput = { line1: "", line2: "", city: "", region: "", postalCode: "", countryCode: "" };
const cacheKey = (id: string) => `warehouse:${id}`;
const codec = { encode: (w: Warehouse) => toJsonString(WarehouseSchema, w), decode: (s: string) => fromJsonString(WarehouseSchema, s) };

export function warehouseHandlers({ db, cache, stock }: WarehouseDeps) {
  const createWarehouse: Impl["createWarehouse"] = async ({ warehouse: w }) => {
    if (!w) throw invalid("warehouse", "required", "warehouse is required");
    const row = await insertWarehouse(db, {
      code: checkCode("warehouse.code", w.code, ENTITY_CODE),
      name: checkText("warehouse.name", w.name, { max: 200, required: true }),
      address: checkAddress("warehouse.address", w.address ?? EMPTY_ADDRESS),
      priority: checkPriority("warehouse.priority", w.priority),
      active: w.active ?? true,
    });
    return { warehouse: toWarehouse(row) };
  };

  const getWarehouse: Impl["getWarehouse"] = async ({ id }) => {
    const key = checkId("id", id);
    const warehouse = await readThrough(cache, cacheKey(key), CACHE_TTL.warehouse, async () => {
      const row = await findWarehouse(db, key);
      return row && toWarehouse(row);
    }, codec);
    if (!warehouse) throw new NotFound(`warehouse ${key} not found`, { field: "id", value: id, constraint: "exists" });
    return { warehouse };
  };

  const listWarehousesHandler: Impl["listWarehouses"] = async (req) => {
    const filter = { active: req.active, code: req.code || undefined, showDeleted: req.showDeleted };
    const page = await listPage(req, filter, (after, limit) => listWarehouses(db, filter, after, limit), toWarehouse);
    return { warehouses: page.items, nextPageToken: page.nextPageToken };
  };

  const updateWarehouseHandler: Impl["updateWarehouse"] = async ({ warehouse: w, updateMask }) => {
    if (!w) throw invalid("warehouse", "required", "warehouse is required");
    const id = checkId("warehouse.id", w.id);
    const present: Record<string, boolean> = {
      name: w.name !== "",
      address: w.address !== undefined,
      priority: w.priority !== 0,
      active: w.active !== undefined,
    };
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: Object.keys(present), nested: ["address"], present: (f) => present[f] ?? false });
    if (fields.length === 0) throw invalid("update_mask", "required", "nothing to update: name a field in update_mask or give it a value");
    const changes: WarehouseChanges = {};
    const address = w.address ?? EMPTY_ADDRESS;
    for (const field of fields) {
      if (field === "name") changes.name = checkText("warehouse.name", w.name, { max: 200, required: true });
      else if (field === "priority") changes.priority = checkPriority("warehouse.priority", w.priority);
      else if (field === "active") changes.active = w.active ?? false;
      else if (field === "address") changes.address = { ...changes.address, ...checkAddress("warehouse.address", address) };
      else {
        const key = addressKeyOf(field.slice("address.".length));
        if (!key) throw invalid("update_mask", "mutable_field", `update_mask path "${field}" is not an address field`, field);
        changes.address = { ...changes.address, ...checkAddress("warehouse.address", address, [key]) };
      }
    }
    const row = await updateWarehouse(db, id, changes);
    await cache.invalidate(cacheKey(id));
    return { warehouse: toWarehouse(row) };
  };

  const deleteWarehouseHandler: Impl["deleteWarehouse"] = async ({ id }) => {
    const key = checkId("id", id);
    const row = await deleteWarehouse(db, key, stock);
    await cache.invalidate(cacheKey(key));
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
