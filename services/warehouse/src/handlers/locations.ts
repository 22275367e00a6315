import { NotFound, invalid, listPage, type ServiceImpl } from "@inv/platform";
import type { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { fieldsToUpdate } from "../domain/field-mask.js";
import { LOCATION_CODE, checkCode, checkId, checkMetadata, checkOptionalId, checkText } from "../domain/rules.js";
import { toLocation } from "../mapping.js";
import { deleteLocation, findLocation, insertLocation, listLocations, updateLocation, type LocationChanges } from "../store/locations.js";
import { findWarehouse } from "../store/warehouses.js";
import type { WarehouseDeps } from "./deps.js";

type Impl = ServiceImpl<typeof WarehouseService>;

export function locationHandlers({ db, stock }: WarehouseDeps) {
  const createLocation: Impl["createLocation"] = async ({ location: l }) => {
    if (!l) throw invalid("location", "required", "location is required");
    const code = checkCode("location.code", l.code, LOCATION_CODE);
    const row = await insertLocation(db, {
      warehouseId: checkId("location.warehouse_id", l.warehouseId),
      parentId: checkOptionalId("location.parent_id", l.parentId),
      locationTypeId: checkId("location.location_type_id", l.locationTypeId),
      code,
      name: checkText("location.name", l.name, { max: 200 }) || code,
      description: checkText("location.description", l.description, { max: 1000 }),
      active: l.active ?? true,
      metadata: checkMetadata("location.metadata", l.metadata),
    });
    return { location: toLocation(row) };
  };

  const getLocation: Impl["getLocation"] = async ({ id }) => {
    const row = await findLocation(db, checkId("id", id));
    if (!row) throw new NotFound(`location ${id} not found`, { field: "id", value: id, constraint: "exists" });
    return { location: toLocation(row) };
  };

  const listLocationsHandler: Impl["listLocations"] = async (req) => {
    const warehouseId = checkId("warehouse_id", req.warehouseId);
    const filter = {
      warehouseId,
      parentId: checkOptionalId("parent_id", req.parentId),
      locationTypeId: checkOptionalId("location_type_id", req.locationTypeId),
      showDeleted: req.showDeleted,
    };
    if (!(await findWarehouse(db, warehouseId))) {
      throw new NotFound(`warehouse ${warehouseId} not found`, { field: "warehouse_id", value: warehouseId, constraint: "exists" });
    }
    const page = await listPage(req, filter, (after, limit) => listLocations(db, filter, after, limit), toLocation);
    return { locations: page.items, nextPageToken: page.nextPageToken };
  };

  const updateLocationHandler: Impl["updateLocation"] = async ({ location: l, updateMask }) => {
    if (!l) throw invalid("location", "required", "location is required");
    const id = checkId("location.id", l.id);
    const present: Record<string, boolean> = {
      name: l.name !== "",
      description: l.description !== "",
      location_type_id: l.locationTypeId !== "",
      active: l.active !== undefined,
      metadata: Object.keys(l.metadata).length > 0,
    };
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: Object.keys(present), present: (f) => present[f] ?? false });
    if (fields.length === 0) throw invalid("update_mask", "required", "nothing to update: name a field in update_mask or give it a value");
    const changes: LocationChanges = {};
    for (const field of fields) {
      if (field === "name") changes.name = checkText("location.name", l.name, { max: 200, required: true });
      else if (field === "description") changes.description = checkText("location.description", l.description, { max: 1000 });
      else if (field === "location_type_id") changes.locationTypeId = checkId("location.location_type_id", l.locationTypeId);
      else if (field === "active") changes.active = l.active ?? false;
      else changes.metadata = checkMetadata("location.metadata", l.metadata);
    }
    return { location: toLocation(await updateLocation(db, id, changes)) };
  };

  const deleteLocationHandler: Impl["deleteLocation"] = async ({ id }) => ({
    location: toLocation(await deleteLocation(db, checkId("id", id), stock)),
  });

  return {
    createLocation,
    getLocation,
    listLocations: listLocationsHandler,
    updateLocation: updateLocationHandler,
    deleteLocation: deleteLocationHandler,
  } satisfies Partial<Impl>;
}
