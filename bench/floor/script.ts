/**
 * A pgbench script's statements, for a floor server to run itself (bench/README.md, "The
 * floor"): the same SQL text pgbench runs, so the floor and pgbench cannot drift apart.
 */
import { readFileSync } from "node:fs";
import type postgres from "postgres";

export interface Statement {
  query: string;
  /** The pgbench variables the statement uses, in the order of its parameters ($1, $2, ...). */
  names: string[];
}

/**
 * The script's statements after its first (which makes, in SQL, the values the services make in
 * JavaScript), each with its pgbench variables (`:name`) turned into parameters in order of
 * first use. `file` is relative to bench/.
 */
export function scriptStatements(file: string): Statement[] {
  const text = readFileSync(new URL(`../${file}`, import.meta.url), "utf8")
    .split("\n")
    .filter((line) => !line.startsWith("--") && !line.startsWith("\\set"))
    .join("\n");
  // A statement ends with ";" or, for one whose row pgbench keeps in variables, with "\gset".
  const statements = text
    .split(/;\s*\n|\\gset\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .slice(1);
  return statements.map((statement) => {
    const names: string[] = [];
    const query = statement.replace(/(?<!:):([a-z_][a-z0-9_]*)/g, (_, name: string) => {
      if (!names.includes(name)) names.push(name);
      return `$${names.indexOf(name) + 1}`;
    });
    return { query, names };
  });
}

/**
 * Runs a statement with its variables' values, prepared once per connection as pgbench's
 * `-M prepared` does. postgres.js sends a value for a json or jsonb parameter as JSON itself,
 * so those are given as objects, not as JSON text.
 */
export const statementRunner =
  (sql: postgres.Sql) =>
  <T>(s: Statement, values: Record<string, unknown>): Promise<T[]> =>
    sql.unsafe(
      s.query,
      s.names.map((n) => {
        if (!(n in values)) throw new Error(`no value for :${n}`);
        return values[n] as postgres.ParameterOrJSON<never>;
      }),
      { prepare: true },
    ) as unknown as Promise<T[]>;
