import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import postgres from "postgres";

/**
 * A database of a test file's own, from (in order) TEST_DATABASE_URL (a server we may create
 * databases on), a throwaway Postgres container when a container runtime answers, or nothing:
 * `url` undefined means the embedded PGlite, in memory. Files never share a database, so they
 * run in parallel.
 */
export interface ScratchDatabase {
  readonly url: string | undefined;
  drop(): Promise<void>;
}

export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const server = process.env["TEST_DATABASE_URL"] || (await containerUrl());
  if (!server) return { url: undefined, drop: async () => {} };
  const name = `t_${label.replace(/\W/g, "_")}_${randomBytes(6).toString("hex")}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const u = new URL(server);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end({ timeout: 5 });
    },
  };
}

let container: Promise<string | undefined> | undefined;

/** Starts one Postgres container per test worker when Docker answers; otherwise steps aside. */
function containerUrl(): Promise<string | undefined> {
  const dockerReachable = process.env["DOCKER_HOST"] || existsSync("/var/run/docker.sock");
  if (!dockerReachable || process.env["TESTCONTAINERS_DISABLED"]) return Promise.resolve(undefined);
  container ??= (async () => {
    try {
      const { GenericContainer, Wait } = await import("testcontainers");
      const started = await new GenericContainer("postgres:16-alpine")
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: "trust" })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
        .start();
      return `postgres://postgres@${started.getHost()}:${started.getMappedPort(5432)}/postgres`;
    } catch {
      return undefined; // the socket is there but no engine answers: embedded PGlite it is
    }
  })();
  return container;
}
