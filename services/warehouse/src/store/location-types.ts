import { and, asc } from "drizzle-orm";
import {
  countLiveReferences,
  duplicate,
  findRow,
  invalid,
  lockRow,
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
import { locationTypes, locations, type LocationTypeRow } from "./schema.js";

export interface NewLocationType {
  code: string;
  name: string;
  description: string;
}

export type LocationTypeChanges = Partial<Pick<NewLocationType, "name" | "description">>;

export async function insertLocationType(db: Db, t: NewLocationType): Promise<LocationTypeRow> {
  try {
    const [row] = await db
      .insert(locationTypes)
      .values({ id: uuidv7(), ...t })
      .returning();
    return row!;
  } catch (err) {
    if (violates(err, "location_types_code_live_uq")) throw duplicate("location_type.code", t.code, `location type code "${t.code}" is already in use`);
    throw err;
  }
}

export const findLocationType = (db: Db, id: string) => findRow(db, locationTypes, id);

export async function listLocationTypes(db: Db, query: PageQuery<LiveFilter>) {
  return db
    .select()
    .from(locationTypes)
    .where(and(...pageConditions(locationTypes, query)))
    .orderBy(asc(locationTypes.id))
    .limit(query.limit);
}

export const updateLocationType = (db: Db, id: string, etag: string, changes: LocationTypeChanges): Promise<LocationTypeRow> =>
  updateResource(db, locationTypes, {
    kind: "location type",
    id,
    etag,
    changes,
    fields: { id: "location_type.id", etag: "location_type.etag" },
  });

/** Soft-deletes a location type no live location uses (property 2 in docs/properties.md). */
export async function deleteLocationType(db: Db, id: string, etag: string): Promise<LocationTypeRow> {
  return softDelete(db, locationTypes, {
    kind: "location type",
    id,
    etag,
    // Under the row lock: creating a location share-locks its type, so a location being created
    // with this type right now is committed, and counted, before this check runs.
    dependents: async (tx) => {
      const used = await countLiveReferences(tx, locations, locations.locationTypeId, id);
      if (used > 0) throw stillInUse(id, "in_use", `location type ${id} is used by ${used} location(s)`);
    },
  });
}

/** Share-locks a live location type until the transaction ends, so it cannot be deleted under a new use. */
export async function lockLiveLocationType(tx: Db, id: string, field: string): Promise<LocationTypeRow> {
  const row = await lockRow(tx, locationTypes, id, "share");
  if (!row || row.deletedAt) throw invalid(field, "foreign_key", `location type ${id} does not exist or is deleted`, id);
  return row;
}
