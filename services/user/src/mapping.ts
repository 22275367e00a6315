import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditOutcome, PrincipalKind, type AuditEvent } from "@inv/gen/user/v1/audit_pb";
import { ApiKeySchema, ApiKeyState, RoleSchema, UserSchema, type ApiKey, type Role, type User } from "@inv/gen/user/v1/user_pb";
import type { ApiKeyRow, AuditEventRow, NewAuditEvent, RoleRow } from "./store/schema.js";
import type { UserView } from "./store/users.js";

const ts = (d: Date | null) => (d ? timestampFromDate(d) : undefined);

export const toUser = ({ row, roles, permissions }: UserView): User =>
  create(UserSchema, {
    id: row.id,
    username: row.username,
    email: row.email,
    displayName: row.displayName,
    active: row.active,
    roles,
    permissions,
    lastLoginTime: ts(row.lastLoginAt),
    passwordChangeTime: ts(row.passwordChangedAt),
    createTime: ts(row.createdAt),
    updateTime: ts(row.updatedAt),
    deleteTime: ts(row.deletedAt),
    createdBy: row.createdBy ?? "",
  });

export const toRole = (row: RoleRow): Role =>
  create(RoleSchema, {
    name: row.name,
    displayName: row.displayName,
    description: row.description,
    permissions: row.permissions,
    builtIn: row.builtIn,
    createTime: ts(row.createdAt),
    updateTime: ts(row.updatedAt),
  });

/** The state of a key now: revocation first, then expiry. */
export function apiKeyState(row: ApiKeyRow, now = Date.now()): ApiKeyState {
  if (row.revokedAt) return ApiKeyState.REVOKED;
  if (row.expireAt && row.expireAt.getTime() <= now) return ApiKeyState.EXPIRED;
  return ApiKeyState.ACTIVE;
}

export const toApiKey = (row: ApiKeyRow): ApiKey =>
  create(ApiKeySchema, {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    ownerUserId: row.ownerUserId,
    expireTime: ts(row.expireAt),
    state: apiKeyState(row),
    lastUseTime: ts(row.lastUsedAt),
    createTime: ts(row.createdAt),
    revokeTime: ts(row.revokedAt),
    revokedBy: row.revokedBy ?? "",
  });

// Audit enums are stored by name, so the table reads well in SQL and survives renumbering.
const ACTOR_KINDS: Record<PrincipalKind, string> = {
  [PrincipalKind.UNSPECIFIED]: "unspecified",
  [PrincipalKind.USER]: "user",
  [PrincipalKind.API_KEY]: "api_key",
  [PrincipalKind.SERVICE]: "service",
  [PrincipalKind.ANONYMOUS]: "anonymous",
};
const OUTCOMES: Record<AuditOutcome, string> = {
  [AuditOutcome.UNSPECIFIED]: "unspecified",
  [AuditOutcome.SUCCESS]: "success",
  [AuditOutcome.DENIED]: "denied",
  [AuditOutcome.FAILURE]: "failure",
};
const reverse = <E extends number>(names: Record<E, string>) => new Map(Object.entries(names).map(([value, name]) => [name as string, Number(value) as E]));
const ACTOR_KIND_BY_NAME = reverse(ACTOR_KINDS);
const OUTCOME_BY_NAME = reverse(OUTCOMES);

export const outcomeName = (o: AuditOutcome) => OUTCOMES[o] ?? "unspecified";

export const toAuditEvent = (row: AuditEventRow): AuditEvent =>
  create(AuditEventSchema, {
    id: row.id,
    occurTime: timestampFromDate(row.occurTime),
    requestId: row.requestId,
    actorKind: ACTOR_KIND_BY_NAME.get(row.actorKind) ?? PrincipalKind.UNSPECIFIED,
    actorId: row.actorId,
    actorName: row.actorName,
    onBehalfOfUserId: row.onBehalfOfUserId,
    service: row.service,
    method: row.method,
    permission: row.permission,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    outcome: OUTCOME_BY_NAME.get(row.outcome) ?? AuditOutcome.UNSPECIFIED,
    statusCode: row.statusCode,
    errorMessage: row.errorMessage,
    clientIp: row.clientIp,
    userAgent: row.userAgent,
    details: (row.details ?? undefined) as JsonObject | undefined,
  });

/** An audit record as stored; the id and time were checked by the caller. */
export const auditRowOf = (e: AuditEvent, id: string, occurTime: Timestamp): NewAuditEvent => ({
  id,
  occurTime: timestampDate(occurTime),
  requestId: e.requestId,
  actorKind: ACTOR_KINDS[e.actorKind] ?? "unspecified",
  actorId: e.actorId,
  actorName: e.actorName,
  onBehalfOfUserId: e.onBehalfOfUserId,
  service: e.service,
  method: e.method,
  permission: e.permission,
  resourceType: e.resourceType,
  resourceId: e.resourceId,
  outcome: outcomeName(e.outcome),
  statusCode: e.statusCode,
  errorMessage: e.errorMessage,
  clientIp: e.clientIp,
  userAgent: e.userAgent.slice(0, 256),
  details: e.details ?? null,
});
