import { fileURLToPath } from "node:url";
import type { Db, ServiceDefinitionOptions, ServiceResources } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import { serviceProcesses } from "@inv/service-catalog/descriptors";
import { userAuditTrail } from "./audit-trail.js";
import { bootstrapAdmin } from "./bootstrap.js";
import { settingsFromEnvironment, type UserSettings } from "./config.js";
import { PermissionCatalog } from "./domain/permissions.js";
import { userServices, type UserDeps } from "./handlers/index.js";
import { createUserIdentitySource } from "./identity.js";
import { invalidator } from "./invalidation.js";
import { KeyRing } from "./tokens/keys.js";
import { PasswordHasher } from "./tokens/passwords.js";
import { LoginThrottle } from "./tokens/throttle.js";

export const USER_DEFAULT_PORT = processNamed("user").grpcPort;

/** Every permission the platform's contracts declare, read once from the descriptors. */
const permissions = new PermissionCatalog(serviceProcesses.flatMap((p) => p.services));

export interface UserService {
  /** The definition to start (startService, startTestService, the cluster). */
  readonly definition: ServiceDefinitionOptions;
  /** The handlers' dependencies of the most recent start: its identity source, keys, database. */
  deps(): UserDeps;
}

/**
 * The user service: users, roles, sessions, signing keys, API keys and the audit trail, in
 * schema "user". Settings are given (tests) or read from the environment at first start.
 * `onStart` creates the first administrator when there is none, and runs signing-key
 * housekeeping at start and then every `housekeepingSeconds`.
 */
export function createUserService(settings: UserSettings | (() => UserSettings), extra: { print?: (text: string) => void } = {}): UserService {
  const settingsOf = typeof settings === "function" ? settings : () => settings;
  const started = new WeakMap<Db, UserDeps>();
  let latest: UserDeps | undefined;

  const depsOf = (resources: ServiceResources): UserDeps => {
    const known = started.get(resources.db);
    if (known) return known;
    const s = settingsOf();
    const keys = new KeyRing({ db: resources.db, settings: s });
    const deps: UserDeps = {
      db: resources.db,
      log: resources.log,
      settings: s,
      passwords: new PasswordHasher(s.passwordHash),
      keys,
      throttle: new LoginThrottle(s.throttle, resources.redis),
      identity: createUserIdentitySource({ db: resources.db, keys }),
      permissions,
      invalidate: invalidator(resources.bus, resources.log),
    };
    started.set(resources.db, deps);
    latest = deps;
    return deps;
  };

  const definition: ServiceDefinitionOptions = {
    name: "user",
    database: { schema: "user", migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)) },
    register: (resources) => userServices(depsOf(resources)),
    // The platform's auth interceptor asks this process's own database, not an RPC to itself.
    identity: (resources) => {
      const deps = depsOf(resources);
      return { source: deps.identity, jwks: async () => ({ keys: await deps.keys.jwks() }) };
    },
    audit: { trail: (resources) => userAuditTrail(resources.db) },
    onStart: async (resources) => {
      const deps = depsOf(resources);
      await bootstrapAdmin({ ...deps, ...(extra.print ? { print: extra.print } : {}) });
      await deps.keys.housekeeping();
      const timer = setInterval(() => {
        deps.keys.housekeeping().catch((err: unknown) => deps.log.error({ err }, "signing key housekeeping failed"));
      }, deps.settings.housekeepingSeconds * 1000);
      timer.unref();
      return async () => clearInterval(timer);
    },
  };

  return {
    definition,
    deps: () => {
      if (!latest) throw new Error("the user service has not been started");
      return latest;
    },
  };
}

/** The user service configured from the environment; the cluster loads it by this name. */
export const userServiceDefinition: ServiceDefinitionOptions = createUserService(() => settingsFromEnvironment()).definition;

export { createUserIdentitySource } from "./identity.js";
export { settingsFromEnvironment, type UserSettings } from "./config.js";
