import { and, asc, count, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import { AlreadyExists, FailedPrecondition, NotFound, inTransaction, violates, type Db } from "@inv/platform";
import { uuidv7 } from "uuidv7";
import type { StockProbe } from "../stock-probe.js";
import { locations, warehouses, type AddressJson, type WarehouseRow } from "./schema.js";

export interface NewWarehouse {
  code: string;
  name: string;
  address: AddressJson;
  priority: number;
  active: boolean;
}

export interface WarehouseChanges {
  name?: string;
  /** Merged into the stored address: only the keys given change. */
  address?: Partial<AddressJson>;
  priority?: number;
  active?: boolean;
}

export interface WarehouseFilter {
  active?: boolean | undefined;
  code?: string | undefined;
  showDeleted: boolean;
}

export async function insertWarehouse(db: Db, w: NewWarehouse): Promise<WarehouseRow> {
  try {
    const [row] = await db.insert(warehouses).values({ id: uuidv7(), ...w }).returning();
    return row!;
  } catch (err) {
    if (violates(err, "warehouses_code_live_uq")) {
      throw new AlreadyExists(`warehouse code "${w.code}" is already in use`, { field: "warehouse.code", value: w.code, constraint: "unique" });
    }
    throw err;
  }
}

export async function findWarehouse(db: Db, id: string): Promise<WarehouseRow | undefined> {
  const [row] = await db.select().from(warehouses).where(eq(warehouses.id, id));
  return row;
}

/** One page in creation order (ids are UUIDv7), after the keyset cursor `afterId`. */
export async function listWarehouses(db: Db, filter: WarehouseFilter, afterId: string | undefined, limit: number) {
  const where: (SQL | undefined)[] = [
    filter.showDeleted ? undefined : isNull(warehouses.deletedAt),
    filter.active === undefined ? undefined : eq(warehouses.active, filter.active),
    filter.code ? eq(warehouses.code, filter.code) : undefined,
    afterId ? gt(warehouses.id, afterId) : undefined,
  ];
  return db
    .select()
    .from(warehouses)
    .where(and(...where))
    .orderBy(asc(warehouses.id))
    .limit(limit);
}

export async function updateWarehouse(db: Db, id: string, changes: WarehouseChanges): Promise<WarehouseRow> {
  const { address, ...plain } = changes;
  const [row] = await db
    .update(warehouses)
    .set({
      ...plain,
      // jsonb || jsonb merges in the statement itself, so concurrent partial address updates both land.
      ...(address ? { address: sql`${warehouses.address} || ${JSON.stringify(address)}::jsonb` } : {}),
      updatedAt: sql`now()`,
    })
    .where(and(eq(warehouses.id, id), isNull(warehouses.deletedAt)))
    .returning();
  if (row) return row;
  throw (await findWarehouse(db, id)) ? deletedError(id) : notFound(id);
}

/**
 * Soft-deletes a warehouse that has no live locations and no stock. The row lock taken first
 * makes this wait for any location being created in it right now (creation holds a share
 * lock on the warehouse), so the emptiness check cannot miss one.
 */
export async function deleteWarehouse(db: Db, id: string, stock: StockProbe): Promise<WarehouseRow> {
  return inTransaction(db, async (tx) => {
    const [current] = await tx.select().from(warehouses).where(eq(warehouses.id, id)).for("update");
    if (!current) throw notFound(id);
    if (current.deletedAt) return current; // deleting again is a no-op, so a retried delete succeeds
    const [live] = await tx
      .select({ n: count() })
      .from(locations)
      .where(and(eq(locations.warehouseId, id), isNull(locations.deletedAt)));
    if (live && live.n > 0) {
      throw new FailedPrecondition(`warehouse ${id} still has ${live.n} location(s); delete them first`, {
        field: "id",
        value: id,
        constraint: "has_locations",
      });
    }
    if (await stock.warehouseHasStock(id)) {
      throw new FailedPrecondition(`warehouse ${id} still holds stock; move or write it off first`, { field: "id", value: id, constraint: "has_stock" });
    }
    const [row] = await tx
      .update(warehouses)
      .set({ deletedAt: sql`now()`, updatedAt: sql`now()`, active: false })
      .where(eq(warehouses.id, id))
      .returning();
    return row!;
  });
}

/**
 * Locks a live warehouse against deletion until the calling transaction ends, and returns it.
 * Callers creating something inside a warehouse take this first.
 */
export async function lockLiveWarehouse(tx: Db, id: string): Promise<WarehouseRow> {
  const [row] = await tx.select().from(warehouses).where(eq(warehouses.id, id)).for("share");
  if (!row) throw notFound(id);
  if (row.deletedAt) throw deletedError(id);
  return row;
}

const notFound = (id: string) => new NotFound(`warehouse ${id} not found`, { field: "id", value: id, constraint: "exists" });
const deletedError = (id: string) =>
  new FailedPrecondition(`warehouse ${id} is deleted`, { field: "id", value: id, constraint: "not_deleted" });
