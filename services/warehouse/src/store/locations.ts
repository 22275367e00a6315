import { and, asc, eq } from "drizzle-orm";
import {
  countLiveReferences,
  duplicate,
  findRow,
  inTransaction,
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
import type { StockProbe } from "../stock-probe.js";
import { lockLiveLocationType } from "./location-types.js";
import { locations, type LocationRow } from "./schema.js";
import { lockLiveWarehouse } from "./warehouses.js";

export interface NewLocation {
  warehouseId: string;
  parentId: string | null;
  locationTypeId: string;
  code: string;
  name: string;
  description: string;
  active: boolean;
  metadata: Record<string, string>;
}

export type LocationChanges = Partial<Pick<NewLocation, "name" | "description" | "locationTypeId" | "active" | "metadata">>;

export interface LocationFilter extends LiveFilter {
  warehouseId: string;
  parentId?: string | null | undefined;
  locationTypeId?: string | null | undefined;
}

/**
 * Creates a location after checking that its warehouse, parent and type exist and are live
 * (property 1 in docs/properties.md). Each is share-locked until commit, so a concurrent delete of any of
 * them waits for this insert and then sees it.
 */
export async function insertLocation(db: Db, l: NewLocation): Promise<LocationRow> {
  return inTransaction(db, async (tx) => {
    await lockLiveWarehouse(tx, l.warehouseId, "location.warehouse_id");
    let path = l.code;
    if (l.parentId) {
      const parent = await lockLiveLocation(tx, l.parentId, "location.parent_id");
      if (parent.warehouseId !== l.warehouseId) {
        throw invalid("location.parent_id", "same_warehouse", "the parent location belongs to another warehouse", l.parentId);
      }
      path = `${parent.path}/${l.code}`;
    }
    await lockLiveLocationType(tx, l.locationTypeId, "location.location_type_id");
    try {
      const [row] = await tx
        .insert(locations)
        .values({ id: uuidv7(), ...l, path })
        .returning();
      return row!;
    } catch (err) {
      if (violates(err, "locations_code_live_uq")) throw duplicate("location.code", l.code, `location code "${l.code}" is already in use in this warehouse`);
      throw err;
    }
  });
}

export const findLocation = (db: Db, id: string) => findRow(db, locations, id);

export async function listLocations(db: Db, query: PageQuery<LocationFilter>) {
  const { filter } = query;
  return db
    .select()
    .from(locations)
    .where(
      and(
        eq(locations.warehouseId, filter.warehouseId),
        ...pageConditions(locations, query),
        filter.parentId ? eq(locations.parentId, filter.parentId) : undefined,
        filter.locationTypeId ? eq(locations.locationTypeId, filter.locationTypeId) : undefined,
      ),
    )
    .orderBy(asc(locations.id))
    .limit(query.limit);
}

/** Changes a live location; a new type is share-locked first so it cannot be deleted under this use. */
export async function updateLocation(db: Db, id: string, etag: string, changes: LocationChanges): Promise<LocationRow> {
  return inTransaction(db, async (tx) => {
    if (changes.locationTypeId) await lockLiveLocationType(tx, changes.locationTypeId, "location.location_type_id");
    return updateResource(tx, locations, { kind: "location", id, etag, changes, fields: { id: "location.id", etag: "location.etag" } });
  });
}

/** Soft-deletes a location with no live children and no stock (property 2 in docs/properties.md), and deactivates it. */
export async function deleteLocation(db: Db, id: string, etag: string, stock: StockProbe): Promise<LocationRow> {
  return softDelete(db, locations, {
    kind: "location",
    id,
    etag,
    also: { active: false },
    // Under the row lock: creating a child share-locks its parent, so a child being created
    // right now is committed, and counted, before this check runs.
    dependents: async (tx, row) => {
      const children = await countLiveReferences(tx, locations, locations.parentId, id);
      if (children > 0) throw stillInUse(id, "has_children", `location ${id} still has ${children} child location(s)`);
      if (await stock.locationHasStock(row.warehouseId, id)) throw stillInUse(id, "has_stock", `location ${id} still holds stock; move or write it off first`);
    },
  });
}

async function lockLiveLocation(tx: Db, id: string, field: string): Promise<LocationRow> {
  const row = await lockRow(tx, locations, id, "share");
  if (!row || row.deletedAt) throw invalid(field, "foreign_key", `location ${id} does not exist or is deleted`, id);
  return row;
}
