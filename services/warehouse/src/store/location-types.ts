import { and, asc, count, eq, gt, isNull, sql } from "drizzle-orm";
import { AlreadyExists, FailedPrecondition, NotFound, inTransaction, invalid, violates, type Db } from "@inv/platform";
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
    const [row] = await db.insert(locationTypes).values({ id: uuidv7(), ...t }).returning();
    return row!;
  } catch (err) {
    if (violates(err, "location_types_code_live_uq")) {
      throw new AlreadyExists(`location type code "${t.code}" is already in use`, { field: "location_type.code", value: t.code, constraint: "unique" });
    }
    throw err;
  }
}

export async function findLocationType(db: Db, id: string): Promise<LocationTypeRow | undefined> {
  const [row] = await db.select().from(locationTypes).where(eq(locationTypes.id, id));
  return row;
}

export async function listLocationTypes(db: Db, showDeleted: boolean, afterId: string | undefined, limit: number) {
  return db
    .select()
    .from(locationTypes)
    .where(and(showDeleted ? undefined : isNull(locationTypes.deletedAt), afterId ? gt(locationTypes.id, afterId) : undefined))
    .orderBy(asc(locationTypes.id))
    .limit(limit);
}

export async function updateLocationType(db: Db, id: string, changes: LocationTypeChanges): Promise<LocationTypeRow> {
  const [row] = await db
    .update(locationTypes)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(and(eq(locationTypes.id, id), isNull(locationTypes.deletedAt)))
    .returning();
  if (row) return row;
  throw (await findLocationType(db, id))
    ? new FailedPrecondition(`location type ${id} is deleted`, { field: "id", value: id, constraint: "not_deleted" })
    : notFound(id);
}

/**
 * Soft-deletes a location type no live location uses (seed 000 property 9). The row lock
 * waits out any location being created with this type (creation share-locks the type).
 */
export async function deleteLocationType(db: Db, id: string): Promise<LocationTypeRow> {
  return inTransaction(db, async (tx) => {
    const [current] = await tx.select().from(locationTypes).where(eq(locationTypes.id, id)).for("update");
    if (!current) throw notFound(id);
    if (current.deletedAt) return current;
    const [used] = await tx
      .select({ n: count() })
      .from(locations)
      .where(and(eq(locations.locationTypeId, id), isNull(locations.deletedAt)));
    if (used && used.n > 0) {
      throw new FailedPrecondition(`location type ${id} is used by ${used.n} location(s)`, { field: "id", value: id, constraint: "in_use" });
    }
    const [row] = await tx.update(locationTypes).set({ deletedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(locationTypes.id, id)).returning();
    return row!;
  });
}

/** Share-locks a live location type until the transaction ends, so it cannot be deleted under a new use. */
export async function lockLiveLocationType(tx: Db, id: string, field: string): Promise<LocationTypeRow> {
  const [row] = await tx.select().from(locationTypes).where(eq(locationTypes.id, id)).for("share");
  if (!row || row.deletedAt) throw invalid(field, "foreign_key", `location type ${id} does not exist or is deleted`, id);
  return row;
}

const notFound = (id: string) => new NotFound(`location type ${id} not found`, { field: "id", value: id, constraint: "exists" });
