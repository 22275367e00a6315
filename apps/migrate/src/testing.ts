/**
 * What the migration task's tests share: a database of a test file's own on the TEST_DATABASE_URL
 * server, owned by an admin role that may create roles but is no superuser (as on a managed
 * Postgres), and service roles named for the run. Roles belong to the whole server, so every
 * name starts with `migrate_test_<random>_`, and drop() removes them with the database.
 */
import { randomBytes } from "node:crypto";
import { createLogger } from "@inv/platform";
import type { ProcessName } from "@inv/service-catalog";
import postgres from "postgres";
import { expect } from "vitest";
import { dataOwners } from "./config.js";
import { scramVerifier } from "./index.js";

export const serverUrl = process.env["TEST_DATABASE_URL"];
export const skipWithoutPostgres = !serverUrl;
/** Why the database tests are skipped: the embedded run (PGlite) has one user and no roles. */
export const POSTGRES_ONLY = "on Postgres (TEST_DATABASE_URL; PGlite has no roles to test)";

export const testLog = createLogger("migrate-test", process.env["TEST_LOG_LEVEL"] ?? "silent");

export interface MigrateTestDatabase {
  /** The database's name, also the admin's and every role's name prefix. */
  readonly name: string;
  readonly adminRole: string;
  readonly adminUrl: string;
  /** A superuser connection to the test database (TEST_DATABASE_URL's role). */
  readonly sql: postgres.Sql;
  roleOf(service: ProcessName): string;
  /** The URL a service connects with; its password is the service's current one unless given. */
  urlOf(service: ProcessName, login?: { role?: string; password?: string }): string;
  /** Every data-keeping service's URL. */
  serviceUrls(): Partial<Record<ProcessName, string>>;
  passwordOf(service: ProcessName): string;
  setPassword(service: ProcessName, password: string): void;
  /** A connection as the service's role (closed by drop). */
  connectAs(service: ProcessName): postgres.Sql;
  /** A URL to the test database as another role, for a made-up role (its name gets the prefix). */
  urlAs(role: string, password: string, database?: string): string;
  drop(): Promise<void>;
}

const secret = () => randomBytes(12).toString("base64url");

export async function createMigrateTestDatabase(): Promise<MigrateTestDatabase> {
  const name = `migrate_test_${randomBytes(5).toString("hex")}`;
  const adminRole = `${name}_admin`;
  const adminPassword = secret();
  const server = postgres(serverUrl!, { max: 1, onnotice: () => {} });
  await server.unsafe(`CREATE ROLE ${adminRole} LOGIN CREATEROLE PASSWORD '${adminPassword}'`);
  await server.unsafe(`CREATE DATABASE ${name} OWNER ${adminRole}`);
  const at = (role: string, password: string, database = name) => {
    const url = new URL(serverUrl!);
    url.username = encodeURIComponent(role);
    url.password = encodeURIComponent(password);
    url.pathname = `/${database}`;
    return url.toString();
  };
  const sql = postgres(at(new URL(serverUrl!).username || "postgres", decodeURIComponent(new URL(serverUrl!).password)), { max: 2, onnotice: () => {} });
  const passwords = new Map(dataOwners.map((o) => [o.name, secret()]));
  const clients: postgres.Sql[] = [];
  const roleOf = (service: ProcessName) => `${name}_${service}`;
  const urlOf = (service: ProcessName, login: { role?: string; password?: string } = {}) =>
    at(login.role ?? roleOf(service), login.password ?? passwords.get(service)!);
  return {
    name,
    adminRole,
    adminUrl: at(adminRole, adminPassword),
    sql,
    roleOf,
    urlOf,
    serviceUrls: () => Object.fromEntries(dataOwners.map((o) => [o.name, urlOf(o.name)])),
    passwordOf: (service) => passwords.get(service)!,
    setPassword: (service, password) => void passwords.set(service, password),
    connectAs(service) {
      const client = postgres(urlOf(service), { max: 1, onnotice: () => {} });
      clients.push(client);
      return client;
    },
    urlAs: (role, password, database) => at(role, password, database),
    async drop() {
      for (const client of clients) await client.end({ timeout: 5 });
      await sql.end({ timeout: 5 });
      await server.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      const roles = await server<
        { role: string }[]
      >`SELECT rolname AS role FROM pg_roles WHERE starts_with(rolname, ${`${name}_`}) ORDER BY rolname = ${adminRole}`;
      for (const { role } of roles) await server.unsafe(`DROP ROLE IF EXISTS ${role}`);
      await server.end({ timeout: 5 });
    },
  };
}

/** The roles of this run that exist, the admin's aside. */
export async function rolesOfRun(t: MigrateTestDatabase): Promise<string[]> {
  const found = await t.sql<{ role: string }[]>`
    SELECT rolname AS role FROM pg_roles WHERE starts_with(rolname, ${`${t.name}_`}) AND rolname <> ${t.adminRole} ORDER BY 1`;
  return found.map((r) => r.role);
}

/** The service schemas the test database has. */
export async function serviceSchemas(t: MigrateTestDatabase): Promise<string[]> {
  const found = await t.sql<{ schema: string }[]>`
    SELECT nspname AS schema FROM pg_namespace WHERE nspname = ANY(${t.sql.array(dataOwners.map((o) => o.schema))}::text[]) ORDER BY 1`;
  return found.map((r) => r.schema);
}

/** What a run may change, as one comparable value: roles, rights, owners and bookkeeping. */
export async function rightsAndState(t: MigrateTestDatabase): Promise<unknown> {
  const schemas = t.sql.array(dataOwners.map((o) => o.schema));
  const [state] = await t.sql<{ state: unknown }[]>`
    SELECT json_build_object(
      'roles', (SELECT json_agg(json_build_object('name', rolname, 'login', rolcanlogin, 'super', rolsuper, 'createrole', rolcreaterole,
                                                  'createdb', rolcreatedb, 'inherit', rolinherit) ORDER BY rolname)
                FROM pg_roles WHERE starts_with(rolname, ${`${t.name}_`})),
      'memberships', (SELECT json_agg(json_build_object('role', pg_get_userbyid(roleid), 'member', pg_get_userbyid(member))
                                ORDER BY pg_get_userbyid(roleid), pg_get_userbyid(member))
                      FROM pg_auth_members WHERE starts_with(pg_get_userbyid(roleid), ${`${t.name}_`})
                         OR starts_with(pg_get_userbyid(member), ${`${t.name}_`})),
      'database', (SELECT datacl::text FROM pg_database WHERE datname = current_database()),
      'schemas', (SELECT json_agg(json_build_object('name', nspname, 'owner', pg_get_userbyid(nspowner), 'acl', nspacl::text) ORDER BY nspname)
                  FROM pg_namespace WHERE nspname = ANY(${schemas}::text[]) OR nspname = 'drizzle'),
      'relations', (SELECT json_agg(json_build_object('name', n.nspname || '.' || c.relname, 'kind', c.relkind, 'owner', pg_get_userbyid(c.relowner),
                                                      'acl', c.relacl::text) ORDER BY n.nspname, c.relname)
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(${schemas}::text[]) OR n.nspname = 'drizzle'),
      'routines', (SELECT json_agg(json_build_object('name', p.oid::regprocedure::text, 'owner', pg_get_userbyid(p.proowner)) ORDER BY p.oid::regprocedure::text)
                   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY(${schemas}::text[]))
    ) AS state`;
  const bookkeeping: Record<string, number> = {};
  for (const { schema } of dataOwners) {
    const [row] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${t.sql(schema)}.${t.sql(`__${schema}_migrations`)}`;
    bookkeeping[schema] = row!.n;
  }
  return { state: state!.state, bookkeeping };
}

/**
 * Each role owns its schema and everything in it, reads and writes its tables, may not use
 * another service's schema (42501), and may not create schemas: the rights migrateAll leaves.
 */
export async function expectServiceRights(t: MigrateTestDatabase) {
  const owners = dataOwners;
  for (const [i, { name, schema }] of owners.entries()) {
    const role = t.roleOf(name);
    const [owned] = await t.sql<{ schemaOwner: string; tables: number; foreign: number; foreignRoutines: number }[]>`
      SELECT pg_get_userbyid(n.nspowner) AS "schemaOwner",
             (SELECT count(*)::int FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'r') AS tables,
             (SELECT count(*)::int FROM pg_class c WHERE c.relnamespace = n.oid AND pg_get_userbyid(c.relowner) <> ${role}) AS foreign,
             (SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = n.oid AND pg_get_userbyid(p.proowner) <> ${role}) AS "foreignRoutines"
      FROM pg_namespace n WHERE n.nspname = ${schema}`;
    expect(owned, schema).toEqual({ schemaOwner: role, tables: expect.any(Number), foreign: 0, foreignRoutines: 0 });
    expect(owned!.tables, schema).toBeGreaterThan(1);

    const as = t.connectAs(name);
    const tables = await as<{ statement: string }[]>`
      SELECT format('SELECT count(*) FROM %I.%I', n.nspname, c.relname) AS statement
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${schema} AND c.relkind = 'r'`;
    for (const { statement } of tables) await as.unsafe(statement);
    const rolledBack = new Error("rolled back");
    await expect(
      as.begin(async (tx) => {
        await tx`INSERT INTO ${tx(schema)}.${tx(`__${schema}_migrations`)} (hash, created_at) VALUES ('test', 0)`;
        await tx`DELETE FROM ${tx(schema)}.${tx(`__${schema}_migrations`)} WHERE hash = 'test'`;
        await tx`CREATE TABLE ${tx(schema)}.scratch (id int)`;
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);

    const other = owners[(i + 1) % owners.length]!.schema;
    await expectDenied(as`SELECT count(*) FROM ${as(other)}.${as(`__${other}_migrations`)}`);
    await expectDenied(as`CREATE TABLE ${as(other)}.sneaky (id int)`);
    await expectDenied(as`CREATE SCHEMA sneaky`);
    const [rights] = await t.sql<{ create: boolean; others: string[] | null }[]>`
      SELECT has_database_privilege(${role}, current_database(), 'CREATE') AS create,
             (SELECT array_agg(nspname) FROM pg_namespace
              WHERE nspname = ANY(${t.sql.array(owners.map((o) => o.schema))}::text[]) AND nspname <> ${schema}
                AND (has_schema_privilege(${role}, oid, 'USAGE') OR has_schema_privilege(${role}, oid, 'CREATE'))) AS others`;
    expect(rights, role).toEqual({ create: false, others: null });
  }
}

async function expectDenied(query: Promise<unknown>) {
  const err = await query.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((err as { code?: string } | undefined)?.code, String(err)).toBe("42501");
}

/** Whether the role's stored SCRAM verifier is that of the password (read as superuser from pg_authid). */
export async function passwordMatches(t: MigrateTestDatabase, role: string, password: string): Promise<boolean> {
  const [row] = await t.sql<{ stored: string | null }[]>`SELECT rolpassword AS stored FROM pg_authid WHERE rolname = ${role}`;
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(row?.stored ?? "");
  if (!match) return false;
  return scramVerifier(password, Buffer.from(match[2]!, "base64"), Number(match[1])) === row!.stored;
}
