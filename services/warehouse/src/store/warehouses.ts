import { and, asc, eq, sql } from "drizzle-orm";
import {
  countLiveReferences,
  alreadyDeleted,
  duplicate,
  findRow,
  lockRow,
  notFound,
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

export interface WarehouseFilter extends LiveFilter {
  active?: boolean | undefined;
  code?: string | undefined;
}

export async function insertWarehouse(db: Db, w: NewWarehouse): Promise<WarehouseRow> {
  try {
    const [row] = await db
      .insert(warehouses)
      .values({ id: uuidv7(), ...w })
      .returning();
    return row!;
  } catch (err) {
    if (violates(err, "warehouses_code_live_uq")) throw duplicate("warehouse.code", w.code, `warehouse code "${w.code}" is already in use`);
    throw err;
  }
}

export const findWarehouse = (db: Db, id: string) => findRow(db, warehouses, id);

/** One page in creation order (ids are UUIDv7), after the keyset cursor. */
export async function listWarehouses(db: Db, query: PageQuery<WarehouseFilter>) {
  const { filter } = query;
  return db
    .select()
    .from(warehouses)
    .where(
      and(
        ...pageConditions(warehouses, query),
        filter.active === undefined ? undefined : eq(warehouses.active, filter.active),
        filter.code ? eq(warehouses.code, filter.code) : undefined,
      ),
    )
    .orderBy(asc(warehouses.id))
    .limit(query.limit);
}

/** Changes a live warehouse; with an etag, only if it is still current (checked in the UPDATE itself). */
export async function updateWarehouse(db: Db, id: string, etag: string, changes: WarehouseChanges): Promise<WarehouseRow> {
  const { address, ...plain } = changes;
  return updateResource(db, warehouses, {
    kind: "warehouse",
    id,
    etag,
    fields: { id: "warehouse.id", etag: "warehouse.etag" },
    changes: {
      ...plain,
      // jsonb || jsonb merges in the statement itself, so concurrent partial address updates both land.
      ...(address ? { address: sql`${warehouses.address} || ${JSON.stringify(address)}::jsonb` } : {}),
    },
  });
}

/** Soft-deletes a warehouse that has no live locations and no stock (and deactivates it). */
export async function deleteWarehouse(db: Db, id: string, etag: string, stock: StockProbe): Promise<WarehouseRow> {
  return softDelete(db, warehouses, {
    kind: "warehouse",
    id,
    etag,
    also: { active: false },
    // Under the row lock: a location being created in this warehouse share-locks it, so the
    // count below waits for that create to commit and then includes it.
    dependents: async (tx) => {
      const live = await countLiveReferences(tx, locations, locations.warehouseId, id);
      if (live > 0) throw stillInUse(id, "has_locations", `warehouse ${id} still has ${live} location(s); delete them first`);
      if (await stock.warehouseHasStock(id)) throw stillInUse(id, "has_stock", `warehouse ${id} still holds stock; move or write it off first`);
    },
  });
}

/**
 * Locks a live warehouse against deletion until the calling transaction ends, and returns it.
 * Callers creating something inside a warehouse take this first; `field` names the reference.
 */
export async function lockLiveWarehouse(tx: Db, id: string, field: string): Promise<WarehouseRow> {
  const row = await lockRow(tx, warehouses, id, "share");
  if (!row) throw notFound("warehouse", id, field);
  if (row.deletedAt) throw alreadyDeleted("warehouse", id, field);
  return row;
}
