import { NAME_MAX, type FieldChecker } from "@inv/platform";
import type { PermissionCatalog } from "./permissions.js";

/**
 * The rules of the user service's own fields (the proto comments state the same numbers).
 * Names, descriptions and ids follow the platform's shared limits.
 */

export const USERNAME_PATTERN = /^[a-z0-9._-]{3,64}$/;
/** RFC 5321 caps a forward path at 256 octets including the angle brackets. */
export const EMAIL_MAX = 254;
/**
 * Plausibly shaped, not RFC 5322: one "@", no spaces, a domain of dot-separated labels.
 * "admin@localhost" passes, since the bootstrap admin's default address has no dot.
 */
const EMAIL_SHAPE = /^[^\s@]{1,64}@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
export const ROLE_NAME_PATTERN = /^[a-z0-9_-]{2,64}$/;
export const ROLE_PERMISSIONS_MAX = 200;
/** ListUsers' text search. */
export const QUERY_MAX = NAME_MAX;

/** A username, lower-cased: "Alice" and "alice" are the same user. */
export function checkUsername(v: FieldChecker, field: string, value: string): string {
  const username = value.trim().toLowerCase();
  if (username === "") v.fail(field, "required", `${field} is required`);
  else if (!USERNAME_PATTERN.test(username)) {
    v.fail(field, "pattern", `${field} must be 3 to 64 characters of a-z, 0-9, ".", "_" and "-"`, value.slice(0, 80));
  }
  return username;
}

/** An email address, lower-cased. */
export function checkEmail(v: FieldChecker, field: string, value: string): string {
  const email = value.trim().toLowerCase();
  if (email === "") v.fail(field, "required", `${field} is required`);
  else if (email.length > EMAIL_MAX) v.fail(field, "max_length", `${field} must be at most ${EMAIL_MAX} characters`, value.slice(0, 50));
  else if (!EMAIL_SHAPE.test(email)) v.fail(field, "format", `${field} must be an email address such as name@example.com`, value);
  return email;
}

/** A role name as given (names are lower case by rule, so no folding is needed). */
export function checkRoleName(v: FieldChecker, field: string, value: string): string {
  if (value === "") v.fail(field, "required", `${field} is required`);
  else if (!ROLE_NAME_PATTERN.test(value)) v.fail(field, "pattern", `${field} must be 2 to 64 characters of a-z, 0-9, "_" and "-"`, value.slice(0, 80));
  return value;
}

/** A set of role names (a user's roles): each well-formed; returned sorted and de-duplicated. */
export function checkRoleNames(v: FieldChecker, field: string, values: readonly string[]): string[] {
  values.forEach((name, i) => checkRoleName(v, `${field}[${i}]`, name));
  return [...new Set(values)].sort();
}

/**
 * A role's permissions: each declared by some contract, or a wildcard of a declared domain;
 * at most ROLE_PERMISSIONS_MAX. Returned sorted and de-duplicated, as they are stored.
 */
export function checkPermissions(v: FieldChecker, field: string, values: readonly string[], catalog: PermissionCatalog): string[] {
  const unique = [...new Set(values.map((p) => p.trim()))].sort();
  if (unique.length > ROLE_PERMISSIONS_MAX) {
    v.fail(field, "max_entries", `${field} may have at most ${ROLE_PERMISSIONS_MAX} entries`, unique.length);
    return unique;
  }
  values.forEach((permission, i) => {
    if (!catalog.isGrantable(permission.trim())) {
      v.fail(`${field}[${i}]`, "known_permission", `${field}[${i}] "${permission}" is not a known permission or wildcard (see ListPermissions)`, permission);
    }
  });
  return unique;
}
