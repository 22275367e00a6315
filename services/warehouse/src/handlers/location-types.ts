import {
  DESCRIPTION_MAX,
  NAME_MAX,
  audited,
  checkFields,
  fieldsToUpdate,
  invalid,
  listPage,
  messageCodec,
  notFound,
  presentIn,
  type AuditFacts,
  type ServiceImpl,
} from "@inv/platform";
import { LocationTypeSchema, type WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { toLocationType } from "../mapping.js";
import {
  deleteLocationType,
  findLocationType,
  insertLocationType,
  listLocationTypes,
  updateLocationType,
  type LocationTypeChanges,
} from "../store/location-types.js";
import { createOnce } from "../store/requests.js";
import type { WarehouseDeps } from "./deps.js";

type Impl = ServiceImpl<typeof WarehouseService>;

/** What the audit trail records about a change to a location type. */
const facts = (row: { id: string; code: string }, more: Record<string, unknown> = {}): AuditFacts => ({
  resourceType: "LocationType",
  resourceId: row.id,
  details: { code: row.code, ...more },
});

export function locationTypeHandlers({ db }: WarehouseDeps) {
  const createLocationType: Impl["createLocationType"] = async ({ locationType: t, requestId }, ctx) => {
    if (!t) throw invalid("location_type", "required", "location_type is required");
    const { values, once } = checkFields((v) => ({
      once: v.requestId("request_id", requestId),
      values: {
        code: v.code("location_type.code", t.code),
        name: v.text("location_type.name", t.name, { max: NAME_MAX, required: true }),
        description: v.text("location_type.description", t.description, { max: DESCRIPTION_MAX }),
      },
    }));
    const request = { scope: "CreateLocationType", requestId: once, payload: values, codec: messageCodec(LocationTypeSchema) };
    return {
      locationType: await createOnce(db, request, async (tx) => {
        const row = await insertLocationType(tx, values);
        await ctx.audit(tx, facts(row));
        return toLocationType(row);
      }),
    };
  };

  const getLocationType: Impl["getLocationType"] = async ({ id }) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await findLocationType(db, key);
    if (!row) throw notFound("location type", key);
    return { locationType: toLocationType(row) };
  };

  const listLocationTypesHandler: Impl["listLocationTypes"] = async (req) => {
    const filter = { showDeleted: req.showDeleted };
    const page = await listPage(req, filter, (query) => listLocationTypes(db, query), toLocationType);
    return { locationTypes: page.items, nextPageToken: page.nextPageToken };
  };

  const updateLocationTypeHandler: Impl["updateLocationType"] = async ({ locationType: t, updateMask }, ctx) => {
    if (!t) throw invalid("location_type", "required", "location_type is required");
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: ["name", "description"], present: presentIn(LocationTypeSchema, t) });
    const { id, changes } = checkFields((v) => {
      const changes: LocationTypeChanges = {};
      if (fields.includes("name")) changes.name = v.text("location_type.name", t.name, { max: NAME_MAX, required: true });
      if (fields.includes("description")) changes.description = v.text("location_type.description", t.description, { max: DESCRIPTION_MAX });
      return { id: v.id("location_type.id", t.id), changes };
    });
    return {
      locationType: toLocationType(
        await audited(
          db,
          ctx,
          (tx) => updateLocationType(tx, id, t.etag, changes),
          (r) => facts(r, { fields }),
        ),
      ),
    };
  };

  const deleteLocationTypeHandler: Impl["deleteLocationType"] = async ({ id, etag }, ctx) => {
    const key = checkFields((v) => v.id("id", id));
    return { locationType: toLocationType(await audited(db, ctx, (tx) => deleteLocationType(tx, key, etag), facts)) };
  };

  return {
    createLocationType,
    getLocationType,
    listLocationTypes: listLocationTypesHandler,
    updateLocationType: updateLocationTypeHandler,
    deleteLocationType: deleteLocationTypeHandler,
  } satisfies Partial<Impl>;
}
