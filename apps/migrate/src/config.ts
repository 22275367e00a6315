import { commonConfigProperties, loadConfig } from "@inv/platform";
import { databaseUrlVariable, processes, type DatabaseUrlVariable, type ProcessName } from "@inv/service-catalog";

/** The services that keep data: the processes of the catalog with a schema of their own. */
export const dataOwners = processes.flatMap((p) => (p.databaseSchema === null ? [] : [{ name: p.name, schema: p.databaseSchema }]));

/** The migration task's environment: the log level, the admin URL and each data-owning service's URL. */
export type MigrateConfig = { LOG_LEVEL: string; DATABASE_ADMIN_URL: string } & Partial<Record<DatabaseUrlVariable, string>>;

// The URLs carry passwords, so they are only required here, not matched against a pattern: a
// mismatch would be reported with the value. migrateAll checks them and names only the variable.
const url = { type: "string", minLength: 1 } as const;

export const migrateConfigSchema: Parameters<typeof loadConfig<MigrateConfig>>[0] = {
  type: "object",
  properties: {
    LOG_LEVEL: commonConfigProperties.LOG_LEVEL,
    DATABASE_ADMIN_URL: url,
    ...Object.fromEntries(dataOwners.map((o) => [databaseUrlVariable(o.name), url])),
  },
  required: ["LOG_LEVEL", "DATABASE_ADMIN_URL", ...dataOwners.map((o) => databaseUrlVariable(o.name))],
  // The URL properties are built from the catalog, which ajv's schema type cannot follow.
} as unknown as Parameters<typeof loadConfig<MigrateConfig>>[0];

export const loadMigrateConfig = (env: NodeJS.ProcessEnv = process.env): MigrateConfig => loadConfig(migrateConfigSchema, env);

/** Each data-owning service's URL from the configuration, by process name. */
export function serviceUrlsOf(config: MigrateConfig): Partial<Record<ProcessName, string>> {
  return Object.fromEntries(dataOwners.map((o) => [o.name, config[databaseUrlVariable(o.name)]]));
}
