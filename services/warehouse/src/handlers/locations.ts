import {
  DESCRIPTION_MAX,
  NAME_MAX,
  SHORT_CODE_PATTERN,
  audited,
  checkFields,
  fieldsToUpdate,
  invalid,
  listPage,
  messageCodec,
  notFound,
  presentIn,
  type AuditFacts,
  type FieldChecker,
  type ServiceImpl,
} from "@inv/platform";
import { LocationSchema, type Location, type WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { toLocation } from "../mapping.js";
import { deleteLocation, findLocation, insertLocation, listLocations, updateLocation, type LocationChanges } from "../store/locations.js";
import { createOnce } from "../store/requests.js";
import { findWarehouse } from "../store/warehouses.js";
import type { WarehouseDeps } from "./deps.js";

type Impl = ServiceImpl<typeof WarehouseService>;

const MUTABLE = ["name", "description", "location_type_id", "active", "metadata"];

/** What the audit trail records about a change to a location. */
const facts = (row: { id: string; warehouseId: string; path: string }, more: Record<string, unknown> = {}): AuditFacts => ({
  resourceType: "Location",
  resourceId: row.id,
  details: { warehouse_id: row.warehouseId, path: row.path, ...more },
});

/** The changes an update makes, from the fields its mask (or AIP-134) chose, each checked. */
function changesOf(v: FieldChecker, l: Location, fields: readonly string[]): LocationChanges {
  const changes: LocationChanges = {};
  for (const field of fields) {
    if (field === "name") changes.name = v.text("location.name", l.name, { max: NAME_MAX, required: true });
    else if (field === "description") changes.description = v.text("location.description", l.description, { max: DESCRIPTION_MAX });
    else if (field === "location_type_id") changes.locationTypeId = v.id("location.location_type_id", l.locationTypeId);
    else if (field === "active") changes.active = l.active ?? false;
    else changes.metadata = v.labels("location.metadata", l.metadata);
  }
  return changes;
}

export function locationHandlers({ db, stock, changed }: WarehouseDeps) {
  const createLocation: Impl["createLocation"] = async ({ location: l, requestId }, ctx) => {
    if (!l) throw invalid("location", "required", "location is required");
    const { values, once } = checkFields((v) => {
      const code = v.code("location.code", l.code, SHORT_CODE_PATTERN);
      return {
        once: v.requestId("request_id", requestId),
        values: {
          warehouseId: v.id("location.warehouse_id", l.warehouseId),
          parentId: v.optionalId("location.parent_id", l.parentId),
          locationTypeId: v.id("location.location_type_id", l.locationTypeId),
          code,
          name: v.text("location.name", l.name, { max: NAME_MAX }) || code,
          description: v.text("location.description", l.description, { max: DESCRIPTION_MAX }),
          active: l.active ?? true,
          metadata: v.labels("location.metadata", l.metadata),
        },
      };
    });
    const request = { scope: "CreateLocation", requestId: once, payload: values, codec: messageCodec(LocationSchema) };
    return {
      location: await createOnce(db, request, async (tx) => {
        const row = await insertLocation(tx, values);
        await ctx.audit(tx, facts(row));
        return toLocation(row);
      }),
    };
  };

  const getLocation: Impl["getLocation"] = async ({ id }) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await findLocation(db, key);
    if (!row) throw notFound("location", key);
    return { location: toLocation(row) };
  };

  const listLocationsHandler: Impl["listLocations"] = async (req) => {
    const filter = checkFields((v) => ({
      warehouseId: v.id("warehouse_id", req.warehouseId),
      parentId: v.optionalId("parent_id", req.parentId),
      locationTypeId: v.optionalId("location_type_id", req.locationTypeId),
      showDeleted: req.showDeleted,
    }));
    if (!(await findWarehouse(db, filter.warehouseId))) throw notFound("warehouse", filter.warehouseId, "warehouse_id");
    const page = await listPage(req, filter, (query) => listLocations(db, query), toLocation);
    return { locations: page.items, nextPageToken: page.nextPageToken };
  };

  const updateLocationHandler: Impl["updateLocation"] = async ({ location: l, updateMask }, ctx) => {
    if (!l) throw invalid("location", "required", "location is required");
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: MUTABLE, present: presentIn(LocationSchema, l) });
    const { id, changes } = checkFields((v) => ({ id: v.id("location.id", l.id), changes: changesOf(v, l, fields) }));
    const row = await audited(
      db,
      ctx,
      (tx) => updateLocation(tx, id, l.etag, changes),
      (r) => facts(r, { fields }),
    );
    await changed(id);
    return { location: toLocation(row) };
  };

  const deleteLocationHandler: Impl["deleteLocation"] = async ({ id, etag }, ctx) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await audited(db, ctx, (tx) => deleteLocation(tx, key, etag, stock), facts);
    await changed(key);
    return { location: toLocation(row) };
  };

  return {
    createLocation,
    getLocation,
    listLocations: listLocationsHandler,
    updateLocation: updateLocationHandler,
    deleteLocation: deleteLocationHandler,
  } satisfies Partial<Impl>;
}
