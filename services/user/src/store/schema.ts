import { sql } from "drizzle-orm";
import { boolean, index, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { JWK } from "jose";
import { resourceColumns } from "@inv/platform";

/** The user service owns this schema; no other service reads it. */
export const userSchema = pgSchema("user");

const time = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });

/**
 * People (or shared accounts) that sign in. Username and email are stored lower-cased, so the
 * unique indexes over live rows make them unique case-insensitively; a deleted user frees both.
 */
export const users = userSchema.table(
  "users",
  {
    id: uuid("id").primaryKey(),
    username: text("username").notNull(),
    email: text("email").notNull(),
    displayName: text("display_name").notNull(),
    active: boolean("active").notNull().default(true),
    /** argon2id, PHC string format (it carries its own parameters and salt). */
    passwordHash: text("password_hash").notNull(),
    passwordChangedAt: time("password_changed_at").notNull().defaultNow(),
    lastLoginAt: time("last_login_at"),
    /** The user who created this one; null for the bootstrap admin. */
    createdBy: uuid("created_by"),
    ...resourceColumns(),
  },
  (t) => [
    uniqueIndex("users_username_live_uq").on(t.username).where(sql`${t.deletedAt} IS NULL`),
    uniqueIndex("users_email_live_uq").on(t.email).where(sql`${t.deletedAt} IS NULL`),
  ],
);

/** Named permission sets. Built-in ones are seeded by a migration and cannot be changed. */
export const roles = userSchema.table("roles", {
  name: text("name").primaryKey(),
  displayName: text("display_name").notNull(),
  description: text("description").notNull().default(""),
  /** Sorted and de-duplicated; "*" and "<domain>.*" are wildcards. */
  permissions: text("permissions").array().notNull().default(sql`'{}'::text[]`),
  builtIn: boolean("built_in").notNull().default(false),
  createdAt: time("created_at").notNull().defaultNow(),
  updatedAt: time("updated_at").notNull().defaultNow(),
});

/**
 * Which roles a user has. The foreign key to roles makes an insert here key-share-lock the role,
 * so a concurrent DeleteRole waits for it and then counts it.
 */
export const userRoles = userSchema.table(
  "user_roles",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    roleName: text("role_name")
      .notNull()
      .references(() => roles.name),
  },
  (t) => [primaryKey({ name: "user_roles_pk", columns: [t.userId, t.roleName] }), index("user_roles_role_idx").on(t.roleName)],
);

/** A sign-in: lives as long as its newest refresh token; revoked by logout, reuse, or an admin. */
export const sessions = userSchema.table(
  "sessions",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    createdAt: time("created_at").notNull().defaultNow(),
    expiresAt: time("expires_at").notNull(),
    revokedAt: time("revoked_at"),
    /** Why it ended: "logout", "refresh_reuse", "password_set", "user_deactivated", ... */
    revokeReason: text("revoke_reason"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/**
 * Refresh tokens, by the SHA-256 of the secret. A rotated token keeps its row (rotated_at set),
 * so presenting it again is recognised as reuse and ends the session.
 */
export const refreshTokens = userSchema.table(
  "refresh_tokens",
  {
    hash: text("hash").primaryKey(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    createdAt: time("created_at").notNull().defaultNow(),
    expiresAt: time("expires_at").notNull(),
    rotatedAt: time("rotated_at"),
    /** The hash of the token that replaced this one. */
    replacedBy: text("replaced_by"),
  },
  (t) => [index("refresh_tokens_session_idx").on(t.sessionId)],
);

/**
 * The Ed25519 keys that sign access tokens, when AUTH_SIGNING_KEYS does not provide them. A key
 * is published from creation, signs from sign_from, and is dropped after retire_after (when the
 * last token it signed has expired).
 */
export const signingKeys = userSchema.table("signing_keys", {
  kid: text("kid").primaryKey(),
  privateJwk: jsonb("private_jwk").$type<JWK>().notNull(),
  publicJwk: jsonb("public_jwk").$type<JWK>().notNull(),
  createdAt: time("created_at").notNull().defaultNow(),
  signFrom: time("sign_from").notNull(),
  retireAfter: time("retire_after"),
});

/** Integration credentials: one role each, owned by the user who made them, stored as SHA-256. */
export const apiKeys = userSchema.table(
  "api_keys",
  {
    id: uuid("id").primaryKey(),
    name: text("name").notNull(),
    /** "imk_" and 8 base62 characters: the part of the secret shown in listings. */
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull(),
    role: text("role").notNull(),
    ownerUserId: uuid("owner_user_id")
      .notNull()
      .references(() => users.id),
    expireAt: time("expire_at"),
    createdAt: time("created_at").notNull().defaultNow(),
    revokedAt: time("revoked_at"),
    revokedBy: uuid("revoked_by"),
    /** Truncated to the minute and written at most once a minute, so use costs no write per call. */
    lastUsedAt: time("last_used_at"),
  },
  (t) => [
    uniqueIndex("api_keys_prefix_uq").on(t.prefix),
    uniqueIndex("api_keys_secret_hash_uq").on(t.secretHash),
    index("api_keys_owner_idx").on(t.ownerUserId),
    index("api_keys_role_idx").on(t.role),
  ],
);

/**
 * The platform's audit trail. The id is the producer's event id, so a record shipped twice by a
 * relay is stored once. Times have millisecond precision: the page cursor carries them as
 * JavaScript dates.
 */
export const auditEvents = userSchema.table(
  "audit_events",
  {
    id: uuid("id").primaryKey(),
    occurTime: timestamp("occur_time", { withTimezone: true, precision: 3 }).notNull(),
    requestId: text("request_id").notNull().default(""),
    /** "user", "api_key", "service", "anonymous" or "unspecified". */
    actorKind: text("actor_kind").notNull(),
    actorId: text("actor_id").notNull().default(""),
    actorName: text("actor_name").notNull().default(""),
    onBehalfOfUserId: text("on_behalf_of_user_id").notNull().default(""),
    service: text("service").notNull(),
    method: text("method").notNull(),
    permission: text("permission").notNull().default(""),
    resourceType: text("resource_type").notNull().default(""),
    resourceId: text("resource_id").notNull().default(""),
    /** "success", "denied", "failure" or "unspecified". */
    outcome: text("outcome").notNull(),
    statusCode: text("status_code").notNull().default(""),
    errorMessage: text("error_message").notNull().default(""),
    clientIp: text("client_ip").notNull().default(""),
    userAgent: text("user_agent").notNull().default(""),
    details: jsonb("details").$type<Record<string, unknown>>(),
    recordedAt: time("recorded_at").notNull().defaultNow(),
  },
  (t) => [
    index("audit_events_time_idx").on(t.occurTime, t.id),
    index("audit_events_actor_idx").on(t.actorId, t.occurTime),
    index("audit_events_method_idx").on(t.service, t.method, t.occurTime),
    index("audit_events_resource_idx").on(t.resourceType, t.resourceId, t.occurTime),
    index("audit_events_request_idx").on(t.requestId),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type RoleRow = typeof roles.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
export type NewAuditEvent = typeof auditEvents.$inferInsert;
