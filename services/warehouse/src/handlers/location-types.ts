import { NotFound, invalid, listPage, type ServiceImpl } from "@inv/platform";
import type { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { fieldsToUpdate } from "../domain/field-mask.js";
import { ENTITY_CODE, checkCode, checkId, checkText } from "../domain/rules.js";
import { toLocationType } from "../mapping.js";
import {
  deleteLocationType,
  findLocationType,
  insertLocationType,
  listLocationTypes,
  updateLocationType,
  type LocationTypeChanges,
} from "../store/location-types.js";
import type { WarehouseDeps } from "./deps.js";

type Impl = ServiceImpl<typeof WarehouseService>;

export function locationTypeHandlers({ db }: WarehouseDeps) {
  const createLocationType: Impl["createLocationType"] = async ({ locationType: t }) => {
    if (!t) throw invalid("location_type", "required", "location_type is required");
    const row = await insertLocationType(db, {
      code: checkCode("location_type.code", t.code, ENTITY_CODE),
      name: checkText("location_type.name", t.name, { max: 200, required: true }),
      description: checkText("location_type.description", t.description, { max: 1000 }),
    });
    return { locationType: toLocationType(row) };
  };

  const getLocationType: Impl["getLocationType"] = async ({ id }) => {
    const row = await findLocationType(db, checkId("id", id));
    if (!row) throw new NotFound(`location type ${id} not found`, { field: "id", value: id, constraint: "exists" });
    return { locationType: toLocationType(row) };
  };

  const listLocationTypesHandler: Impl["listLocationTypes"] = async (req) => {
    const filter = { showDeleted: req.showDeleted };
    const page = await listPage(req, filter, (after, limit) => listLocationTypes(db, req.showDeleted, after, limit), toLocationType);
    return { locationTypes: page.items, nextPageToken: page.nextPageToken };
  };

  const updateLocationTypeHandler: Impl["updateLocationType"] = async ({ locationType: t, updateMask }) => {
    if (!t) throw invalid("location_type", "required", "location_type is required");
    const id = checkId("location_type.id", t.id);
    const fields = fieldsToUpdate(updateMask?.paths, {
      mutable: ["name", "description"],
      present: (f) => (f === "name" ? t.name !== "" : t.description !== ""),
    });
    if (fields.length === 0) throw invalid("update_mask", "required", "nothing to update: name a field in update_mask or give it a value");
    const changes: LocationTypeChanges = {};
    if (fields.includes("name")) changes.name = checkText("location_type.name", t.name, { max: 200, required: true });
    if (fields.includes("description")) changes.description = checkText("location_type.description", t.description, { max: 1000 });
    return { locationType: toLocationType(await updateLocationType(db, id, changes)) };
  };

  const deleteLocationTypeHandler: Impl["deleteLocationType"] = async ({ id }) => ({
    locationType: toLocationType(await deleteLocationType(db, checkId("id", id))),
  });

  return {
    createLocationType,
    getLocationType,
    listLocationTypes: listLocationTypesHandler,
    updateLocationType: updateLocationTypeHandler,
    deleteLocationType: deleteLocationTypeHandler,
  } satisfies Partial<Impl>;
}
