import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Field names whose values never reach a log line: anything that looks like a password, token,
 * key or credential ("password", "newPassword", "accessToken", "x-api-key", "authorization", ...).
 * Broad on purpose: a redacted harmless field costs less than a leaked secret.
 */
const SECRET_KEY = /pass(word|wd)?|secret|token|api[-_]?key|authorization|credential|cookie/i;
/** The names pino's child bindings are serialized by (bindings skip the log formatter). */
const SECRET_FIELDS = ["password", "token", "secret", "authorization", "accessToken", "refreshToken", "apiKey", "x-api-key", "x-service-token", "cookie"];
export const REDACTED = "[redacted]";
/** How deep secrets are looked for: `{ password }`, `{ user: { password } }`, `{ req: { headers: { authorization } } }`. */
const REDACT_DEPTH = 2;

/**
 * JSON logs, one line per event; secrets are redacted in logged objects (REDACT_DEPTH levels
 * down) and in child bindings (their own fields).
 *
 * Redaction is done here rather than with pino's `redact` paths: those cost about 5 µs per line
 * with an object (half the price of a line) even when there is nothing to redact, and services
 * and the edge log a line per call. This walks the few keys a line has and copies only what it
 * redacts. Child bindings skip pino's log formatter, so per-field serializers cover them.
 */
export function createLogger(name: string, level = process.env["LOG_LEVEL"] ?? "info", destination?: DestinationStream): Logger {
  const hide = () => REDACTED;
  const options = {
    name,
    level,
    formatters: { log: redactSecrets },
    serializers: { err: pino.stdSerializers.err, ...Object.fromEntries(SECRET_FIELDS.map((field) => [field, hide])) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The object with every secret field's value replaced, up to REDACT_DEPTH levels down; the
 * object itself when it holds none. The caller's objects are never changed: objects on the
 * way to a secret are copied. Only plain objects are searched (an Error keeps its type).
 */
export function redactSecrets<T extends Record<string, unknown>>(object: T): T {
  return redactIn(object, 0) as T;
}

function redactIn(object: Record<string, unknown>, depth: number): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    const value = object[key];
    let replaced: unknown = value;
    if (SECRET_KEY.test(key)) {
      if (value !== undefined) replaced = REDACTED;
    } else if (depth < REDACT_DEPTH && isPlainObject(value)) {
      replaced = redactIn(value, depth + 1);
    }
    if (replaced === value) continue;
    copy ??= { ...object };
    copy[key] = replaced;
  }
  return copy ?? object;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
