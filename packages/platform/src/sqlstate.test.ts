import { status } from "@grpc/grpc-js";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "./db.js";
import { fromSqlState } from "./sqlstate.js";
import { openScratchDb } from "./testing/scratch-db.js";

const DDL = `
  CREATE SCHEMA s;
  CREATE TABLE s.things (id int PRIMARY KEY, code text NOT NULL CONSTRAINT things_code_uq UNIQUE,
    qty int NOT NULL CONSTRAINT things_qty_positive CHECK (qty >= 0));`;

let db: Db;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ db, close } = await openScratchDb("sqlstate", DDL));
});
afterAll(() => close?.());

/** The domain error a statement's database error maps to. */
async function mapped(statement: Promise<unknown>) {
  const err = await statement.then(
    () => undefined,
    (e: unknown) => e,
  );
  const domain = fromSqlState(err);
  return domain && { code: status[domain.code], violations: domain.violations, message: domain.message };
}

describe("Postgres errors map to status codes by SQLSTATE, on the real database", () => {
  it("a duplicate unique value → ALREADY_EXISTS naming the constraint, not the SQL", async () => {
    await db.execute(sql`INSERT INTO s.things VALUES (1, 'A', 1)`);
    const err = await mapped(db.execute(sql`INSERT INTO s.things VALUES (2, 'A', 1)`));
    expect(err).toMatchObject({ code: "ALREADY_EXISTS", message: expect.stringContaining("things_code_uq") });
    expect(err?.message).not.toMatch(/INSERT|VALUES/);
  });

  it("a broken CHECK → FAILED_PRECONDITION", async () => {
    expect(await mapped(db.execute(sql`INSERT INTO s.things VALUES (3, 'B', -1)`))).toMatchObject({ code: "FAILED_PRECONDITION" });
  });

  it("a NUL character in a text parameter → INVALID_ARGUMENT, not INTERNAL", async () => {
    expect(await mapped(db.execute(sql`SELECT * FROM s.things WHERE code = ${"a\u0000b"}`))).toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("a missing value → INVALID_ARGUMENT that names no made-up field", async () => {
    const err = await mapped(db.execute(sql`INSERT INTO s.things (id, qty) VALUES (4, 1)`));
    expect(err?.code).toBe("INVALID_ARGUMENT");
    for (const v of err?.violations ?? []) expect(v.field).toBe("code");
  });
});
