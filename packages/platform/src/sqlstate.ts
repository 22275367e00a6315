import { AlreadyExists, Aborted, type DomainError, FailedPrecondition, type FieldViolation, InvalidArgument } from "./errors.js";

/**
 * The Postgres error fields we read. postgres.js and PGlite both expose `code` (SQLSTATE) and
 * `constraint_name`/`constraint` on their errors; drizzle wraps them with the original as `cause`.
 */
interface PgErrorLike {
  code?: unknown;
  constraint_name?: unknown;
  constraint?: unknown;
  column_name?: unknown;
  column?: unknown;
  cause?: unknown;
}

/** Finds the Postgres error inside a driver or ORM error, if there is one. */
export function findPgError(err: unknown): { code: string; constraint: string | undefined; column: string | undefined } | undefined {
  for (let e = err as PgErrorLike | undefined, depth = 0; e && depth < 5; e = e.cause as PgErrorLike, depth++) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) {
      const constraint = e.constraint_name ?? e.constraint;
      const column = e.column_name ?? e.column;
      return { code: e.code, constraint: typeof constraint === "string" ? constraint : undefined, column: typeof column === "string" ? column : undefined };
    }
  }
  return undefined;
}

/** SQLSTATE codes whose transaction may simply be run again. */
export const isRetryableSqlState = (code: string) => code === "40001" || code === "40P01";

/**
 * Maps a Postgres error to a domain error by SQLSTATE. Services name their constraints so the
 * message can say which rule failed without leaking SQL; the constraint name is the `constraint`.
 */
export function fromSqlState(err: unknown): DomainError | undefined {
  const pg = findPgError(err);
  if (!pg) return undefined;
  const rule = pg.constraint ?? "constraint";
  switch (pg.code) {
    case "23505":
      return new AlreadyExists(`a record with the same unique value already exists (${rule})`);
    case "23503":
      return new FailedPrecondition(`a referenced record does not exist or is still referenced (${rule})`);
    case "23514":
      return new FailedPrecondition(`the change would break the rule ${rule}`);
    case "23502":
      return new InvalidArgument("a required value is missing", columnAtFault(pg, "required"), "INVALID_FIELD");
    case "22P02":
    case "22003":
    case "22001":
    // A NUL character or broken UTF-8 in a text parameter: Postgres refuses it, and so do we.
    case "22021":
      return new InvalidArgument("a value has the wrong format or is out of range", columnAtFault(pg, "format"), "INVALID_FIELD");
    case "40001":
    case "40P01":
      return new Aborted("the change conflicted with a concurrent change; retry it");
    default:
      return undefined;
  }
}

/**
 * The database names a column, not a request field, so a violation is reported only when the
 * column is known; otherwise the message stands alone rather than naming a field that is not there.
 */
function columnAtFault(pg: { column: string | undefined }, constraint: string): FieldViolation[] {
  return pg.column ? [{ field: pg.column, constraint }] : [];
}

/** Whether an error is a violation of the named constraint (e.g. a unique index). */
export const violates = (err: unknown, constraint: string) => findPgError(err)?.constraint === constraint;
