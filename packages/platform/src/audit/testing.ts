/**
 * Test support for the audit files (not exported from the package): a scratch database holding
 * an outbox table. Services get the table from their drizzle-kit migrations; here it is made with
 * AUDIT_OUTBOX_DDL, which outbox.test.ts proves equal to auditOutboxTable's definition.
 */
import { pgSchema } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { type Db, emptyInMemory } from "../db.js";
import { createScratchDatabase } from "../testing/database.js";
import { auditOutboxTable, type AuditOutboxTable } from "./outbox.js";

export const OUTBOX_SCHEMA = "svc";

/** What drizzle-kit generates for auditOutboxTable(pgSchema("svc")). */
export const AUDIT_OUTBOX_DDL = `
  CREATE SCHEMA svc;
  CREATE TABLE svc.audit_outbox (
    id uuid PRIMARY KEY NOT NULL,
    occur_time timestamp(6) with time zone NOT NULL,
    event text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp(6) with time zone DEFAULT now() NOT NULL
  );
  CREATE INDEX audit_outbox_next_attempt_at_idx ON svc.audit_outbox USING btree (next_attempt_at);`;

export interface OutboxDb {
  db: Db;
  table: AuditOutboxTable;
  kind: "postgres" | "pglite";
  /** Another connection pool on the same database, as a second replica would have (Postgres only). */
  connect(): Db;
  close(): Promise<void>;
}

export async function openOutboxDb(label: string): Promise<OutboxDb> {
  const table = auditOutboxTable(pgSchema(OUTBOX_SCHEMA));
  const scratch = await createScratchDatabase(label);
  if (scratch.url) {
    const url = scratch.url;
    const clients = [postgres(url, { max: 10, onnotice: () => {} })];
    await clients[0]!.unsafe(AUDIT_OUTBOX_DDL);
    return {
      db: drizzlePostgres(clients[0]!) as unknown as Db,
      table,
      kind: "postgres",
      connect() {
        const client = postgres(url, { max: 10, onnotice: () => {} });
        clients.push(client);
        return drizzlePostgres(client) as unknown as Db;
      },
      async close() {
        await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
        await scratch.drop();
      },
    };
  }
  const client = await emptyInMemory();
  await client.exec(AUDIT_OUTBOX_DDL);
  return {
    db: drizzlePglite(client) as unknown as Db,
    table,
    kind: "pglite",
    connect() {
      throw new Error("PGlite has one connection");
    },
    close: () => client.close(),
  };
}
