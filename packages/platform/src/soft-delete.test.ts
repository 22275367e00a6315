import { count, eq, sql } from "drizzle-orm";
import { pgSchema, text, uuid } from "drizzle-orm/pg-core";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "./db.js";
import type { DomainError } from "./errors.js";
import { etagOf } from "./etag.js";
import { stillInUse } from "./resource-errors.js";
import { findRow, resourceColumns, updateResource } from "./resource-table.js";
import { softDelete } from "./soft-delete.js";
import { openScratchDb } from "./testing/scratch-db.js";

const t = pgSchema("t");
const things = t.table("things", { id: uuid("id").primaryKey(), name: text("name").notNull(), ...resourceColumns() });
const parts = t.table("parts", { id: uuid("id").primaryKey(), thingId: uuid("thing_id").notNull() });
const DDL = `
  CREATE SCHEMA t;
  CREATE TABLE t.things (id uuid PRIMARY KEY, name text NOT NULL, version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz);
  CREATE TABLE t.parts (id uuid PRIMARY KEY, thing_id uuid NOT NULL);`;

let db: Db;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ db, close } = await openScratchDb("softdelete", DDL));
});
afterAll(() => close?.());

async function newThing(name = "n") {
  const [row] = await db.insert(things).values({ id: randomUUID(), name }).returning();
  return row!;
}
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: DomainError) => ({ reason: e.reason, field: e.violation?.field }),
  );
const rename = (id: string, name: string, etag = "") => updateResource(db, things, { kind: "thing", id, etag, changes: { name } });
const remove = (id: string, etag = "") =>
  softDelete(db, things, {
    kind: "thing",
    id,
    etag,
    dependents: async (tx) => {
      const [used] = await tx.select({ n: count() }).from(parts).where(eq(parts.thingId, id));
      if (used!.n > 0) throw stillInUse(id, "has_parts", `thing ${id} still has parts`);
    },
  });

describe("updateResource", () => {
  it("bumps the version; a current etag passes, a stale or foreign one is ABORTED and changes nothing", async () => {
    const thing = await newThing();
    const once = await rename(thing.id, "a", etagOf(thing.id, 1));
    expect(once).toMatchObject({ name: "a", version: 2 });
    expect(await failure(rename(thing.id, "b", etagOf(thing.id, 1)))).toEqual({ reason: "ETAG_MISMATCH", field: "etag" });
    expect(await failure(rename(thing.id, "b", etagOf(randomUUID(), 2)))).toMatchObject({ reason: "ETAG_MISMATCH" });
    expect(await failure(rename(thing.id, "b", "junk"))).toMatchObject({ reason: "ETAG_MISMATCH" });
    expect(await findRow(db, things, thing.id)).toMatchObject({ name: "a", version: 2 });
    expect(await rename(thing.id, "c")).toMatchObject({ name: "c", version: 3 });
  });

  it("NOT_FOUND for a missing row, DELETED for a deleted one", async () => {
    expect(await failure(rename(randomUUID(), "x"))).toEqual({ reason: "NOT_FOUND", field: "id" });
    const thing = await newThing();
    await remove(thing.id);
    expect(await failure(rename(thing.id, "x"))).toEqual({ reason: "DELETED", field: "id" });
  });

  it("of concurrent updates holding the same etag, exactly one wins", async () => {
    const thing = await newThing();
    const etag = etagOf(thing.id, thing.version);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => rename(thing.id, `w${i}`, etag)));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    expect(await findRow(db, things, thing.id)).toMatchObject({ version: 2, name: (won[0] as PromiseFulfilledResult<{ name: string }>).value.name });
  });
});

describe("softDelete", () => {
  it("refuses while dependents exist, then deletes once; a repeat returns the deleted row unchanged", async () => {
    const thing = await newThing();
    await db.insert(parts).values({ id: randomUUID(), thingId: thing.id });
    expect(await failure(remove(thing.id))).toEqual({ reason: "IN_USE", field: "id" });
    expect((await findRow(db, things, thing.id))!.deletedAt).toBeNull();

    await db.delete(parts).where(eq(parts.thingId, thing.id));
    const deleted = await remove(thing.id, etagOf(thing.id, 1));
    expect(deleted.deletedAt).toBeInstanceOf(Date);
    expect(deleted.version).toBe(2);
    expect(await remove(thing.id, "stale etags do not matter once deleted")).toEqual(deleted);
  });

  it("NOT_FOUND for a missing row; a stale etag is ABORTED and deletes nothing", async () => {
    expect(await failure(remove(randomUUID()))).toEqual({ reason: "NOT_FOUND", field: "id" });
    const thing = await newThing();
    await rename(thing.id, "moved on");
    expect(await failure(remove(thing.id, etagOf(thing.id, 1)))).toMatchObject({ reason: "ETAG_MISMATCH" });
    expect((await findRow(db, things, thing.id))!.deletedAt).toBeNull();
  });

  it("concurrent deletes all succeed with the one deletion", async () => {
    const thing = await newThing();
    const results = await Promise.all(Array.from({ length: 6 }, () => remove(thing.id)));
    expect(new Set(results.map((r) => r.deletedAt!.getTime())).size).toBe(1);
    expect(results.every((r) => r.version === 2)).toBe(true);
    const [row] = await db.select({ v: things.version }).from(things).where(sql`${things.id} = ${thing.id}`);
    expect(row!.v).toBe(2);
  });
});
