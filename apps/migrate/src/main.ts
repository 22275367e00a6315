/**
 * The migration task (the catalog's migrateProgram): run once before a rollout, it creates or
 * updates each data-keeping service's role and migrates the service's schema as that role.
 * Exits 0 when every service is up to date; otherwise logs one line saying what failed and
 * exits 1 (the failure in full, its stack and causes, at level debug).
 */
import { createLogger } from "@inv/platform";
import { loadMigrateConfig, serviceUrlsOf } from "./config.js";
import { failureMessage, migrateAll } from "./index.js";

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
// The logger comes before the configuration, whose errors it reports: a bad LOG_LEVEL is one of them.
const requested = process.env["LOG_LEVEL"];
const log = createLogger("migrate", requested && LEVELS.includes(requested) ? requested : "info");

try {
  const config = loadMigrateConfig();
  const migrated = await migrateAll({ adminUrl: config.DATABASE_ADMIN_URL, serviceUrls: serviceUrlsOf(config), log });
  log.info({ services: migrated.map((m) => m.service) }, "every service's role and schema are up to date");
  process.exit(0);
} catch (err) {
  log.error(`migration failed: ${failureMessage(err)}`);
  log.debug({ err }, "migration failure in full");
  process.exit(1);
}
