import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs, one line per event; secrets are redacted wherever they appear in a logged object. */
export function createLogger(name: string, level = process.env["LOG_LEVEL"] ?? "info"): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ["password", "*.password", "token", "*.token", "secret", "*.secret", "authorization", "*.authorization", "*.headers.authorization"],
      censor: "[redacted]",
    },
  });
}
