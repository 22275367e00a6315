/**
 * The migration task run before a rollout: for every service of the catalog that keeps data,
 * make sure its database role exists with the password of the URL the service connects with,
 * then migrate the service's schema as that role, so the role owns its schema and everything in
 * it and nothing else. The admin connection (DATABASE_ADMIN_URL) does what only it may: create
 * and update roles, grant the role CREATE on the database for as long as its migrations run
 * (the first creates the schema), take it back, and hand a schema made before services had
 * roles of their own to its service.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { definitions } from "@inv/cluster/definitions";
import { ConfigError, DRIZZLE_DEFAULT_MIGRATIONS_SCHEMA, migrateExclusively, migrationsTableOf } from "@inv/platform";
import { databaseUrlVariable, type ProcessName } from "@inv/service-catalog";
import type { Logger } from "pino";
import postgres from "postgres";
import { dataOwners } from "./config.js";

/** A failure of the task, said in one line that names the variable or the service at fault and never holds a password. */
export class MigrateError extends Error {
  override name = "MigrateError";
}

const ADMIN_VARIABLE = "DATABASE_ADMIN_URL";

/** A service that keeps data: its schema and its migrations. */
export interface ServiceDatabase {
  readonly name: ProcessName;
  readonly schema: string;
  readonly migrationsFolder: string;
}

/** Every service of the catalog with a schema, in the catalog's order, with its migrations folder from its definition. */
export function serviceDatabases(): ServiceDatabase[] {
  return dataOwners.map(({ name, schema }) => {
    const database = definitions[name].database;
    if (database?.schema !== schema) {
      throw new MigrateError(`the ${name} service's definition keeps schema ${database?.schema ?? "(none)"}, but the service catalog says ${schema}`);
    }
    return { name, schema, migrationsFolder: database.migrationsFolder };
  });
}

export interface MigrateAllOptions {
  /** A role that may create roles, connected to the database the services use (DATABASE_ADMIN_URL). */
  adminUrl: string;
  /** The URL each service that keeps data connects with (its own role, password and database), by process name. */
  serviceUrls: Readonly<Partial<Record<ProcessName, string>>>;
  log: Logger;
}

/** What was done for one service. */
export interface ServiceMigration {
  readonly service: ProcessName;
  readonly role: string;
  readonly schema: string;
  /** The role did not exist before. */
  readonly roleCreated: boolean;
  /** Objects of the schema (or its bookkeeping table, from drizzle's shared schema) were handed to the role. */
  readonly adopted: boolean;
  /** Migrations applied, as the role. */
  readonly applied: number;
  /** The role moved the bookkeeping table from drizzle's shared schema itself. */
  readonly moved: boolean;
}

interface ServiceLogin extends ServiceDatabase {
  readonly variable: string;
  readonly url: string;
  readonly role: string;
  readonly password: string;
  readonly database: string;
}

/** Who the admin connection is. */
interface Admin {
  readonly user: string;
  readonly database: string;
  readonly superuser: boolean;
}

/**
 * Brings every data-keeping service's role and schema up to date. Everything is checked before
 * anything changes (the URLs, the admin connection and its right to create roles, that every
 * service uses the admin's database and a role of its own): a bad URL fails and changes
 * nothing. Safe to run again (the second run applies nothing and leaves the same rights) and
 * while another copy runs: the copies take turns (an advisory lock on the admin connection), and
 * each schema's migrations take its lock as the services do at start.
 */
export async function migrateAll(opts: MigrateAllOptions): Promise<ServiceMigration[]> {
  checkPostgresUrl(opts.adminUrl, ADMIN_VARIABLE);
  const logins = serviceDatabases().map((s) => serviceLogin(s, opts.serviceUrls[s.name]));
  for (const [i, login] of logins.entries()) {
    const twin = logins.slice(0, i).find((other) => other.role === login.role);
    if (twin) throw new MigrateError(`${twin.variable} and ${login.variable} name the same role: each service needs a role of its own`);
  }

  const sql = postgres(opts.adminUrl, { max: 1, connect_timeout: 15, onnotice: () => {} });
  try {
    const admin = await connectAdmin(sql);
    for (const login of logins) {
      if (login.database !== admin.database) {
        throw new MigrateError(
          `${login.variable} names database "${login.database}", but ${ADMIN_VARIABLE} connects to "${admin.database}": every service's schema lives in that one`,
        );
      }
      if (login.role === admin.user) {
        throw new MigrateError(`${login.variable} names the role of ${ADMIN_VARIABLE}: each service needs a role of its own, one that may not create roles`);
      }
    }
    // Two copies of the task take turns: role, grant and revoke statements touch the same
    // catalog rows, and Postgres fails one of two concurrent updates of a row ("tuple
    // concurrently updated"). The two-key lock space cannot meet the schemas' one-key locks.
    await sql`SELECT pg_advisory_lock(hashtext('inv'), hashtext('migrate'))`;
    await refuseOverpoweredRoles(sql, logins);
    const done: ServiceMigration[] = [];
    for (const login of logins) {
      const migrated = await migrateService(sql, admin, login);
      opts.log.info({ ...migrated }, "service role and schema up to date");
      done.push(migrated);
    }
    await sql`SELECT pg_advisory_unlock(hashtext('inv'), hashtext('migrate'))`;
    return done;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The one line a failure is reported with: the message of the task's own errors, the cause of others. */
export function failureMessage(err: unknown): string {
  if (err instanceof MigrateError || err instanceof ConfigError) return err.message;
  return messageOf(err);
}

function messageOf(err: unknown): string {
  // Node's happy-eyeballs connect reports every address it tried, under an empty message.
  if (err instanceof AggregateError && err.errors.length > 0) return [...new Set(err.errors.map(messageOf))].join("; ");
  if (err instanceof Error) return err.message || String((err as { code?: unknown }).code ?? err.name);
  return String(err);
}

function checkPostgresUrl(value: string | undefined, variable: string): URL {
  if (!value) throw new MigrateError(`${variable} is not set`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Never the value: it holds a password.
    throw new MigrateError(`${variable} is not a URL (postgres://<role>:<password>@<host>:<port>/<database>)`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") throw new MigrateError(`${variable} is not a postgres:// URL`);
  return url;
}

/**
 * A lower-case SQL identifier: what a role name may be here, so that it reads the same quoted
 * or not, in SQL and in a URL. Statements still quote it (format's %I).
 */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const RESERVED_ROLE_NAMES = new Set(["public", "none", "current_user", "current_role", "session_user"]);

function serviceLogin(service: ServiceDatabase, value: string | undefined): ServiceLogin {
  const variable = databaseUrlVariable(service.name);
  const url = checkPostgresUrl(value, variable);
  let role: string;
  let password: string;
  let database: string;
  try {
    role = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
    database = decodeURIComponent(url.pathname.slice(1));
  } catch {
    throw new MigrateError(`${variable} holds a malformed %-escape`);
  }
  if (!role) throw new MigrateError(`${variable} names no role (postgres://<role>:<password>@<host>:<port>/<database>)`);
  if (!ROLE_NAME.test(role) || role.startsWith("pg_") || RESERVED_ROLE_NAMES.has(role)) {
    throw new MigrateError(
      `${variable} names a role this task does not create: a service role is a lower-case identifier (a-z, 0-9 and _, at most 63 characters, not starting with a digit or pg_)`,
    );
  }
  if (!password) throw new MigrateError(`${variable} has no password`);
  // postgres.js, as the service, connects to the database named after the role when the URL names none.
  return { ...service, variable, url: value!, role, password, database: database || role };
}

async function connectAdmin(sql: postgres.Sql): Promise<Admin> {
  let found: { user: string; database: string; superuser: boolean; createRole: boolean } | undefined;
  try {
    [found] = await sql<{ user: string; database: string; superuser: boolean; createRole: boolean }[]>`
      SELECT current_user AS "user", current_database() AS database, r.rolsuper AS superuser, r.rolsuper OR r.rolcreaterole AS "createRole"
      FROM pg_roles r WHERE r.rolname = current_user`;
  } catch (err) {
    throw new MigrateError(`cannot connect with ${ADMIN_VARIABLE}: ${messageOf(err)}`, { cause: err });
  }
  if (!found) throw new MigrateError(`cannot connect with ${ADMIN_VARIABLE}: its role is not in pg_roles`);
  if (!found.createRole) throw new MigrateError(`the role of ${ADMIN_VARIABLE} (${found.user}) may not create roles`);
  return { user: found.user, database: found.database, superuser: found.superuser };
}

/**
 * A role that exists already must be no more than a service role: one that may create roles,
 * databases or replicate, or pass row security, would have rights beyond its own schema.
 */
async function refuseOverpoweredRoles(sql: postgres.Sql, logins: readonly ServiceLogin[]) {
  const overpowered = await sql<{ role: string }[]>`
    SELECT rolname AS role FROM pg_roles
    WHERE rolname = ANY(${sql.array(logins.map((l) => l.role))}::text[])
      AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)`;
  const first = logins.find((l) => overpowered.some((o) => o.role === l.role));
  if (first) {
    throw new MigrateError(
      `${first.variable} names role ${first.role}, which exists with more rights than a service role may have (superuser, createrole, createdb, replication or bypassrls)`,
    );
  }
}

async function migrateService(sql: postgres.Sql, admin: Admin, login: ServiceLogin): Promise<ServiceMigration> {
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new MigrateError(`${login.name}: ${what}: ${messageOf(err)}`, { cause: err });
    }
  };
  const roleCreated = await step(`cannot create or update role ${login.role}`, () => ensureRole(sql, login.role, login.password));
  // CONNECT is what the service needs for good (PUBLIC has it unless a database takes it
  // away); CREATE only while its schema is made or handed over.
  await step(`cannot grant role ${login.role} CONNECT and CREATE on database ${admin.database}`, () =>
    execFormat(sql, "GRANT CONNECT, CREATE ON DATABASE %I TO %I", [admin.database, login.role]),
  );
  let outcome: { adopted: boolean; applied: number; moved: boolean };
  try {
    const adopted = await step(`cannot hand schema ${login.schema} to role ${login.role}`, () => adopt(sql, admin, login));
    const migrated = await step(`cannot migrate schema ${login.schema} as role ${login.role}`, () =>
      migrateExclusively({ url: login.url, schema: login.schema, migrationsFolder: login.migrationsFolder }),
    );
    outcome = { adopted, ...migrated };
  } catch (err) {
    await execFormat(sql, "REVOKE CREATE ON DATABASE %I FROM %I", [admin.database, login.role]).catch(() => {});
    throw err;
  }
  await step(`cannot revoke CREATE on database ${admin.database} from role ${login.role}`, () =>
    execFormat(sql, "REVOKE CREATE ON DATABASE %I FROM %I", [admin.database, login.role]),
  );
  return { service: login.name, role: login.role, schema: login.schema, roleCreated, ...outcome };
}

type Session = postgres.Sql | postgres.TransactionSql;

/** Runs a statement made by Postgres's format() from the template and its arguments (%I quotes identifiers, %L literals). */
async function execFormat(sql: Session, template: string, args: readonly string[]) {
  const [made] = await sql<{ statement: string }[]>`SELECT format(${template}::text, VARIADIC ${sql.array([...args])}::text[]) AS statement`;
  await sql.unsafe(made!.statement);
}

/**
 * Creates the role, or sets its password when it exists (a rotated password takes effect).
 * The name and the password reach the DO block as transaction-local settings, bound as query
 * parameters, and are quoted by format(): nothing is pasted into SQL. Two copies creating the
 * same role at once: the loser's duplicate_object (or the unique violation behind it) turns
 * into setting the password. True when the role was created.
 */
async function ensureRole(sql: postgres.Sql, role: string, password: string): Promise<boolean> {
  const created = await sql.begin(async (tx) => {
    await tx`SELECT set_config('inv_migrate.role', ${role}, true), set_config('inv_migrate.password', ${storedPassword(password)}, true),
                    set_config('inv_migrate.created', 'no', true)`;
    await tx.unsafe(`
      DO $$
      DECLARE
        name text := current_setting('inv_migrate.role');
        secret text := current_setting('inv_migrate.password');
      BEGIN
        BEGIN
          EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', name, secret);
          PERFORM set_config('inv_migrate.created', 'yes', true);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
          EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', name, secret);
        END;
      END $$`);
    const [row] = await tx<{ created: boolean }[]>`SELECT current_setting('inv_migrate.created') = 'yes' AS created`;
    return row!.created;
  });
  return created as boolean;
}

/**
 * The password as the role statement carries it: a SCRAM-SHA-256 verifier made here, so the
 * password itself is never in a statement (a statement can reach the server's log: with
 * log_statement, or as the context of an error). Postgres stores a verifier as given. It
 * prepares a password with SASLprep before hashing it, which leaves ASCII as it is; any other
 * password is sent as it is, for Postgres to prepare and hash.
 */
function storedPassword(password: string): string {
  return /^[\x01-\x7f]*$/.test(password) ? scramVerifier(password) : password;
}

/** The SCRAM-SHA-256 verifier of a password (RFC 5802, 7677), in the form Postgres stores: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
  const hmac = (text: string) => createHmac("sha256", salted).update(text).digest();
  const storedKey = createHash("sha256").update(hmac("Client Key")).digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${hmac("Server Key").toString("base64")}`;
}

/**
 * Hands the role a schema made before services had roles of their own (by the role that then
 * migrated every schema, as a rule the admin's): the bookkeeping table moves from drizzle's
 * shared schema into the service's (as openDatabase would do, but the role cannot move a table
 * it does not own), and the schema and every object in it not yet the role's become the role's:
 * tables, views and sequences of their own (indexes, triggers and a column's sequence go with
 * their table), functions, and types other than a table's. True when anything changed; a
 * schema the role owns whole (any second run) costs a few catalog reads.
 *
 * Changing an owner takes the right to act as the new owner: a superuser has it, a role that
 * may create roles is granted membership in the service role for the hand-over and gives it up
 * in the same transaction.
 */
async function adopt(sql: postgres.Sql, admin: Admin, login: ServiceLogin): Promise<boolean> {
  const table = migrationsTableOf(login.schema);
  return sql.begin(async (tx) => {
    const [state] = await tx<{ schema: boolean; oldTable: boolean; newTable: boolean }[]>`
      SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = ${login.schema}) AS schema,
             EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ${DRIZZLE_DEFAULT_MIGRATIONS_SCHEMA} AND c.relname = ${table}) AS "oldTable",
             EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ${login.schema} AND c.relname = ${table}) AS "newTable"`;
    if (!state?.schema) return false;
    const move = state.oldTable && !state.newTable;
    let handOver = await ownershipChanges(tx, login);
    if (!move && handOver.length === 0) return false;
    const [membership] = await tx<{ member: boolean }[]>`SELECT pg_has_role(current_user, ${login.role}, 'USAGE') AS member`;
    const joins = !admin.superuser && !membership?.member;
    if (joins) await execFormat(tx, "GRANT %I TO CURRENT_USER", [login.role]);
    if (move) {
      await execFormat(tx, "ALTER TABLE %I.%I SET SCHEMA %I", [DRIZZLE_DEFAULT_MIGRATIONS_SCHEMA, table, login.schema]);
      handOver = await ownershipChanges(tx, login);
    }
    for (const statement of handOver) await tx.unsafe(statement);
    if (joins) await execFormat(tx, "REVOKE %I FROM CURRENT_USER", [login.role]);
    return true;
  });
}

/** The statements that give the role what is in its schema and not yet its own, the schema first. */
async function ownershipChanges(tx: postgres.TransactionSql, login: ServiceLogin): Promise<string[]> {
  const found = await tx<{ statement: string }[]>`
    WITH target AS (SELECT oid FROM pg_roles WHERE rolname = ${login.role}),
         space AS (SELECT oid, nspname, nspowner FROM pg_namespace WHERE nspname = ${login.schema})
    SELECT statement FROM (
      SELECT 1 AS step, format('ALTER SCHEMA %I OWNER TO %I', s.nspname, ${login.role}::text) AS statement
      FROM space s WHERE s.nspowner <> (SELECT oid FROM target)
      UNION ALL
      SELECT 2, format('ALTER %s %I.%I OWNER TO %I',
                       CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                       s.nspname, c.relname, ${login.role}::text)
      FROM pg_class c JOIN space s ON s.oid = c.relnamespace
      WHERE c.relowner <> (SELECT oid FROM target) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        -- A sequence that belongs to a column changes owner with its table.
        AND NOT (c.relkind = 'S' AND EXISTS (
          SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
      UNION ALL
      SELECT 3, format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, ${login.role}::text)
      FROM pg_proc p JOIN space s ON s.oid = p.pronamespace WHERE p.proowner <> (SELECT oid FROM target)
      UNION ALL
      SELECT 4, format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, ${login.role}::text)
      FROM pg_type t JOIN space s ON s.oid = t.typnamespace
      WHERE t.typowner <> (SELECT oid FROM target)
        AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
    ) changes ORDER BY step`;
  return found.map((f) => f.statement);
}
