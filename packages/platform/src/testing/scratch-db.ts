import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { type Db, emptyInMemory } from "../db.js";
import { createScratchDatabase } from "./database.js";

/**
 * A raw drizzle database for testing platform helpers without a service: a scratch database on
 * TEST_DATABASE_URL (or a container), else in-memory PGlite, with `ddl` run first.
 */
export async function openScratchDb(label: string, ddl: string): Promise<{ db: Db; close(): Promise<void> }> {
  const scratch = await createScratchDatabase(label);
  if (scratch.url) {
    const client = postgres(scratch.url, { max: 10, onnotice: () => {} });
    await client.unsafe(ddl);
    return {
      db: drizzlePostgres(client) as unknown as Db,
      async close() {
        await client.end({ timeout: 5 });
        await scratch.drop();
      },
    };
  }
  const client = await emptyInMemory();
  await client.exec(ddl);
  return { db: drizzlePglite(client) as unknown as Db, close: () => client.close() };
}
