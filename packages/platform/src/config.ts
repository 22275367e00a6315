import { Ajv, type JSONSchemaType } from "ajv";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads a process's configuration from environment variables, validated against a JSON Schema
 * whose property names are the variable names. Numbers and booleans are coerced from strings,
 * defaults are filled in, and the first bad variable is named in the error, so a misconfigured
 * process fails at start instead of at its first request.
 */
export function loadConfig<T extends object>(schema: JSONSchemaType<T>, env: NodeJS.ProcessEnv = process.env): T {
  const ajv = new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: true, allErrors: true });
  const validate = ajv.compile(schema);
  const known = Object.keys(schema.properties ?? {});
  const values: Record<string, unknown> = {};
  for (const key of known) {
    const raw = env[key];
    if (raw !== undefined && raw !== "") values[key] = raw;
  }
  if (!validate(values)) {
    const problems = (validate.errors ?? []).map((e) => {
      const name = e.instancePath.replace(/^\//, "") || String(e.params["missingProperty"] ?? "");
      const got = name && values[name] !== undefined ? ` (got ${shown(name, String(values[name]))})` : "";
      return `${name} ${e.message ?? "is invalid"}${got}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return values as T;
}

/**
 * Ends a process whose configuration is bad with the one line that says why, no stack trace
 * (the error already names each bad variable); anything else is thrown on.
 */
export function exitOnConfigError(processName: string, err: unknown): never {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${processName}: ${err.message}\n`);
  process.exit(1);
}

/** Variables whose values are credentials: a bad one is named, never shown. */
const SECRET_NAME = /SECRET|PASSWORD|KEYS?$|TOKEN/;

/**
 * A bad value as the error shows it: a credential not at all, and a URL without the password
 * it may carry (`postgres://role:…@host/db`), so the error can go to a log.
 */
function shown(name: string, value: string): string {
  if (SECRET_NAME.test(name)) return "a value, hidden";
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i;
  return JSON.stringify(value.replace(userinfo, "$1:…@"));
}

/** Variables every process understands. */
export interface CommonConfig {
  LOG_LEVEL: string;
  /** postgres:// URL; when unset the embedded default (PGlite under DATA_DIR) is used. */
  DATABASE_URL?: string;
  /** redis:// URL; when unset caches, rate limits and events stay in-process. */
  REDIS_URL?: string;
  /** Where the embedded database keeps its files. */
  DATA_DIR: string;
}

export const commonConfigProperties = {
  LOG_LEVEL: { type: "string", enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], default: "info" },
  DATABASE_URL: { type: "string", pattern: "^postgres(ql)?://", nullable: true },
  REDIS_URL: { type: "string", pattern: "^rediss?://", nullable: true },
  DATA_DIR: { type: "string", minLength: 1, default: "./.data" },
} as const;
