import { Aborted, AlreadyExists, FailedPrecondition, NotFound } from "./errors.js";

/**
 * The errors every resource raises the same way, so callers can rely on one shape per situation:
 * the status code, the reason in ErrorInfo, and the request field at fault with its rule.
 * `kind` is the resource in words ("warehouse", "location type"); `field` the request field that
 * carried the id ("id" by default, "location.warehouse_id" for a reference).
 */

/** NOT_FOUND: no such resource, deleted or not. */
export const notFound = (kind: string, id: string, field = "id") =>
  new NotFound(`${kind} ${id} not found`, { field, value: id, constraint: "exists" }, "NOT_FOUND");

/** FAILED_PRECONDITION: the resource exists but is soft-deleted, so it cannot be changed or used. */
export const alreadyDeleted = (kind: string, id: string, field = "id") =>
  new FailedPrecondition(`${kind} ${id} is deleted`, { field, value: id, constraint: "not_deleted" }, "DELETED");

/**
 * ABORTED: the caller's etag is not the resource's current one, because someone changed it since
 * the caller read it. Nothing was changed; re-read and retry.
 */
export const etagMismatch = (kind: string, id: string, given: string, field = "etag") =>
  new Aborted(
    `${kind} ${id} has changed since etag "${given}" was read; read it again and retry`,
    { field, value: given, constraint: "current_etag" },
    "ETAG_MISMATCH",
  );

/** FAILED_PRECONDITION: live records still depend on the resource, so it cannot be deleted yet. */
export const stillInUse = (id: string, constraint: string, message: string) =>
  new FailedPrecondition(message, { field: "id", value: id, constraint }, "IN_USE");

/** ALREADY_EXISTS: another live resource already has this unique value (a code, a name). */
export const duplicate = (field: string, value: string, message: string) =>
  new AlreadyExists(message, { field, value, constraint: "unique" }, "ALREADY_EXISTS");
