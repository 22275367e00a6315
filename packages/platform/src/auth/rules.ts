import { getOption, hasOption, type DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { required_permission } from "@inv/gen/user/v1/options_pb";

const declared = new WeakMap<DescMethod, { permission: string | undefined }>();

/**
 * The permission an RPC declares in its contract, or undefined when it declares none (refused).
 * Read from the descriptor once per method: reading an option decodes the method's options
 * each time, which the edge's profile showed on every request.
 */
export function requiredPermission(method: DescMethod): string | undefined {
  let known = declared.get(method);
  if (known === undefined) {
    known = { permission: hasOption(method, required_permission) ? getOption(method, required_permission) : undefined };
    declared.set(method, known);
  }
  return known.permission;
}

/** The two reserved values of required_permission. */
export const PUBLIC = "public";
export const AUTHENTICATED = "authenticated";

/** Whether a call of this method changes something (everything not marked NO_SIDE_EFFECTS). */
export const isMutating = (method: DescMethod) => method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;

/**
 * The audit trail's own intake: storing records is not itself recorded, or every shipment of
 * records would add one more record about records.
 */
const AUDIT_INTAKE = "user.v1.AuditRecordService";

/** Whether each call of this method leaves an audit record: every change, except the trail's own intake. */
export const isAudited = (method: DescMethod) => isMutating(method) && method.parent.typeName !== AUDIT_INTAKE;
