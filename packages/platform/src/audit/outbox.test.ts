import { status } from "@grpc/grpc-js";
import { sql, type SQL } from "drizzle-orm";
import { getTableConfig, PgDialect } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inTransaction, rows } from "../db.js";
import { ANONYMOUS_CALLER } from "../auth/principal.js";
import { auditEventOf } from "./event.js";
import { decodeAuditEvent } from "./outbox.js";
import { OUTBOX_SCHEMA, openOutboxDb, type OutboxDb } from "./testing.js";
import { outboxTrail } from "./trail.js";

let o: OutboxDb;
beforeAll(async () => {
  o = await openOutboxDb("audit_outbox");
});
afterAll(() => o?.close());

const event = () => auditEventOf({ service: "svc", method: "/svc.v1.S/M", permission: "x.write", caller: ANONYMOUS_CALLER, requestId: "r", code: status.OK });

describe("auditOutboxTable", () => {
  it("is what the test DDL makes: columns, types, nullability, defaults, key and index", async () => {
    const config = getTableConfig(o.table);
    const dialect = new PgDialect();
    const expected = config.columns.map((c) => {
      const type = c.getSQLType();
      return {
        name: c.name,
        type: type.replace(/\s*\(\d+\)/, ""),
        precision: Number(/\((\d+)\)/.exec(type)?.[1] ?? 0) || null,
        nullable: !c.notNull,
        default: c.default === undefined ? null : typeof c.default === "object" ? dialect.sqlToQuery(c.default as SQL).sql : String(c.default),
        primary: c.primary,
      };
    });
    const actual = await rows<{ name: string; type: string; precision: number | null; nullable: boolean; default: string | null; primary: boolean }>(
      o.db,
      sql`SELECT c.column_name AS name, c.data_type AS type,
            CASE WHEN c.data_type LIKE 'timestamp%' THEN c.datetime_precision END AS precision,
            c.is_nullable = 'YES' AS nullable, c.column_default AS default,
            EXISTS (SELECT 1 FROM information_schema.table_constraints k JOIN information_schema.key_column_usage u USING (constraint_schema, constraint_name)
                    WHERE k.table_schema = c.table_schema AND k.table_name = c.table_name AND k.constraint_type = 'PRIMARY KEY' AND u.column_name = c.column_name) AS primary
          FROM information_schema.columns c WHERE c.table_schema = ${OUTBOX_SCHEMA} AND c.table_name = ${config.name}
          ORDER BY c.ordinal_position`,
    );
    expect(actual.map((c) => ({ ...c, precision: c.precision === null ? null : Number(c.precision) }))).toEqual(expected);

    const indexes = await rows<{ name: string; def: string }>(
      o.db,
      sql`SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = ${OUTBOX_SCHEMA} AND tablename = ${config.name} AND indexname NOT LIKE '%_pkey'`,
    );
    const columnsOf = (def: string) => /\(([^)]*)\)\s*$/.exec(def)?.[1]?.split(", ");
    expect(indexes.map((i) => ({ name: i.name, columns: columnsOf(i.def) }))).toEqual(
      config.indexes.map((i) => ({ name: i.config.name, columns: i.config.columns.map((c) => (c as { name: string }).name) })),
    );
  });
});

describe("outboxTrail", () => {
  const count = async () => (await o.db.select().from(o.table)).length;

  it("writes in the caller's transaction: gone on rollback, there on commit, exactly the event", async () => {
    let pokes = 0;
    const trail = outboxTrail({ db: o.db, table: o.table, onWritten: () => pokes++ });
    const before = await count();
    const rolledBack = event();
    await expect(
      inTransaction(o.db, async (tx) => {
        await trail.recordInTransaction(tx, rolledBack);
        throw new Error("change failed");
      }),
    ).rejects.toThrow("change failed");
    expect(await count()).toBe(before);

    const committed = event();
    await inTransaction(o.db, (tx) => trail.recordInTransaction(tx, committed));
    const [row] = await o.db.select().from(o.table).where(sql`${o.table.id} = ${committed.id}`);
    expect(row).toMatchObject({ id: committed.id, attempts: 0 });
    expect(decodeAuditEvent(row!.event)).toEqual(committed);
    expect(pokes).toBe(2);
  });

  it("writes outside a transaction, once per event id, and gives an id-less event one", async () => {
    const trail = outboxTrail({ db: o.db, table: o.table });
    const before = await count();
    const e = event();
    await trail.record(e);
    await trail.record(e);
    const anonymous = event();
    anonymous.id = "";
    await trail.record(anonymous);
    expect(await count()).toBe(before + 2);
    expect(anonymous.id).toBe("");
  });
});
