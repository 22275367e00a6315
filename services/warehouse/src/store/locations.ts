import { and, asc, count, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import { AlreadyExists, FailedPrecondition, NotFound, inTransaction, invalid, violates, type Db } from "@inv/platform";
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

export interface LocationFilter {
  warehouseId: string;
  parentId?: string | null | undefined;
  locationTypeId?: string | null | undefined;
  showDeleted: boolean;
}

/**
 * Creates a location after checking that its warehouse, parent and type exist and are live
 * (seed 000 property 8). Each is share-locked until commit, so a concurrent delete of any of
 * them waits for this insert and then sees it.
 */
export async function insertLocation(db: Db, l: NewLocation): Promise<LocationRow> {
  return inTransaction(db, async (tx) => {
    await lockLiveWarehouse(tx, l.warehouseId);
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
      const [row] = await tx.insert(locations).values({ id: uuidv7(), ...l, path }).returning();
      return row!;
    } catch (err) {
      if (violates(err, "locations_code_live_uq")) {
        throw new AlreadyExists(`location code "${l.code}" is already in use in this warehouse`, {
          field: "location.code",
          value: l.code,
          constraint: "unique",
        });
      }
      throw err;
    }
  });
}

export async function findLocation(db: Db, id: string): Promise<LocationRow | undefined> {
  const [row] = await db.select().from(locations).where(eq(locations.id, id));
  return row;
}

export async function listLocations(db: Db, filter: LocationFilter, afterId: string | undefined, limit: number) {
  const where: (SQL | undefined)[] = [
    eq(locations.warehouseId, filter.warehouseId),
    filter.showDeleted ? undefined : isNull(locations.deletedAt),
    filter.parentId ? eq(locations.parentId, filter.parentId) : undefined,
    filter.locationTypeId ? eq(locations.locationTypeId, filter.locationTypeId) : undefined,
    afterId ? gt(locations.id, afterId) : undefined,
  ];
  return db
    .select()
    .from(locations)
    .where(and(...where))
    .orderBy(asc(locations.id))
    .limit(limit);
}

export async function updateLocation(db: Db, id: string, changes: LocationChanges): Promise<LocationRow> {
  return inTransaction(db, async (tx) => {
    if (changes.locationTypeId) await lockLiveLocationType(tx, changes.locationTypeId, "location.location_type_id");
    const [row] = await tx
      .update(locations)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(and(eq(locations.id, id), isNull(locations.deletedAt)))
      .returning();
    if (row) return row;
    throw (await findLocation(tx, id)) ? deletedError(id) : notFound(id);
  });
}

/**
 * Soft-deletes a location with no live children and no stock (seed 000 property 9). The row
 * lock waits out any child being created under it (creation share-locks the parent).
 */
export async function deleteLocation(db: Db, id: string, stock: StockProbe): Promise<LocationRow> {
  return inTransaction(db, async (tx) => {
    const [current] = await tx.select().from(locations).where(eq(locations.id, id)).for("update");
    if (!current) throw notFound(id);
    if (current.deletedAt) return current;
    const [children] = await tx
      .select({ n: count() })
      .from(locations)
      .where(and(eq(locations.parentId, id), isNull(locations.deletedAt)));
    if (children && children.n > 0) {
      throw new FailedPrecondition(`location ${id} still has ${children.n} child location(s)`, { field: "id", value: id, constraint: "has_children" });
    }
    if (await stock.locationHasStock(id)) {
      throw new FailedPrecondition(`location ${id} still holds stock`, { field: "id", value: id, constraint: "has_stock" });
    }
    const [row] = await tx
      .update(locations)
      .set({ deletedAt: sql`now()`, updatedAt: sql`now()`, active: false })
      .where(eq(locations.id, id))
      .returning();
    return row!;
  });
}

async function lockLiveLocation(tx: Db, id: string, field: string): Promise<LocationRow> {
  const [row] = await tx.select().from(locations).where(eq(locations.id, id)).for("share");
  if (!row || row.deletedAt) throw invalid(field, "foreign_key", `location ${id} does not exist or is deleted`, id);
  return row;
}

const notFound = (id: string) => new NotFound(`location ${id} not found`, { field: "id", value: id, constraint: "exists" });
const deletedError = (id: string) => new FailedPrecondition(`location ${id} is deleted`, { field: "id", value: id, constraint: "not_deleted" });
