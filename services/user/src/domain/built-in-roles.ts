import { SERVICE_PERMISSIONS, type BUILT_IN_ROLES } from "@inv/platform";

/**
 * The permission sets of the built-in roles, as migration 0001_built_in_roles seeds them (a test
 * compares the two). Every name is a permission some contract declares, or a wildcard of a
 * declared domain. They cannot be changed through the API, so code may rely on them.
 */
export const BUILT_IN_ROLE_PERMISSIONS: Readonly<Record<(typeof BUILT_IN_ROLES)[number], readonly string[]>> = {
  admin: ["*"],
  manager: ["apikey.manage", "audit.read", "item.*", "report.read", "reservation.*", "stock.read", "stock.write", "unit.*", "user.read", "warehouse.*"],
  clerk: ["item.read", "report.read", "reservation.manage", "reservation.read", "stock.read", "stock.write", "unit.read", "unit.write", "warehouse.read"],
  viewer: ["item.read", "report.read", "reservation.read", "stock.read", "unit.read", "warehouse.read"],
  // What the platform's access check grants a service acting on its own: one list for both.
  service: SERVICE_PERMISSIONS,
};

/** The role whose holders the bootstrap looks for, and gives the first user. */
export const ADMIN_ROLE = "admin";

/**
 * The role platform services act with on their own. No person or API key may hold it: it opens
 * nothing internal to them (only a service identity does), but it is not meant for people, and
 * the audit trail should never show a person acting as a service.
 */
export const SERVICE_ROLE = "service";
