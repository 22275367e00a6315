import type { Db, IdentitySource, ServiceResources } from "@inv/platform";
import type { UserSettings } from "../config.js";
import type { PermissionCatalog } from "../domain/permissions.js";
import type { Invalidate } from "../invalidation.js";
import type { KeyRing } from "../tokens/keys.js";
import type { PasswordHasher } from "../tokens/passwords.js";
import type { LoginThrottle } from "../tokens/throttle.js";

/** What the user service's handlers need, built once per start from its resources and settings. */
export interface UserDeps {
  db: Db;
  log: ServiceResources["log"];
  settings: UserSettings;
  passwords: PasswordHasher;
  keys: KeyRing;
  throttle: LoginThrottle;
  identity: IdentitySource;
  permissions: PermissionCatalog;
  invalidate: Invalidate;
}
