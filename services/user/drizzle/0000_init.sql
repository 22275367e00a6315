CREATE SCHEMA "user";
--> statement-breakpoint
CREATE TABLE "user"."api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"secret_hash" text NOT NULL,
	"role" text NOT NULL,
	"owner_user_id" uuid NOT NULL,
	"expire_at" timestamp (6) with time zone,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp (6) with time zone,
	"revoked_by" uuid,
	"last_used_at" timestamp (6) with time zone
);
--> statement-breakpoint
CREATE TABLE "user"."audit_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"occur_time" timestamp (3) with time zone NOT NULL,
	"request_id" text DEFAULT '' NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_id" text DEFAULT '' NOT NULL,
	"actor_name" text DEFAULT '' NOT NULL,
	"on_behalf_of_user_id" text DEFAULT '' NOT NULL,
	"service" text NOT NULL,
	"method" text NOT NULL,
	"permission" text DEFAULT '' NOT NULL,
	"resource_type" text DEFAULT '' NOT NULL,
	"resource_id" text DEFAULT '' NOT NULL,
	"outcome" text NOT NULL,
	"status_code" text DEFAULT '' NOT NULL,
	"error_message" text DEFAULT '' NOT NULL,
	"client_ip" text DEFAULT '' NOT NULL,
	"user_agent" text DEFAULT '' NOT NULL,
	"details" jsonb,
	"recorded_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user"."refresh_tokens" (
	"hash" text PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (6) with time zone NOT NULL,
	"rotated_at" timestamp (6) with time zone,
	"replaced_by" text
);
--> statement-breakpoint
CREATE TABLE "user"."roles" (
	"name" text PRIMARY KEY NOT NULL,
	"display_name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"permissions" text[] DEFAULT '{}'::text[] NOT NULL,
	"built_in" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user"."sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (6) with time zone NOT NULL,
	"revoked_at" timestamp (6) with time zone,
	"revoke_reason" text
);
--> statement-breakpoint
CREATE TABLE "user"."signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"private_jwk" jsonb NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"sign_from" timestamp (6) with time zone NOT NULL,
	"retire_after" timestamp (6) with time zone
);
--> statement-breakpoint
CREATE TABLE "user"."user_roles" (
	"user_id" uuid NOT NULL,
	"role_name" text NOT NULL,
	CONSTRAINT "user_roles_pk" PRIMARY KEY("user_id","role_name")
);
--> statement-breakpoint
CREATE TABLE "user"."users" (
	"id" uuid PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"password_hash" text NOT NULL,
	"password_changed_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"last_login_at" timestamp (6) with time zone,
	"created_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone
);
--> statement-breakpoint
ALTER TABLE "user"."api_keys" ADD CONSTRAINT "api_keys_owner_user_id_users_id_fk" FOREIGN KEY ("owner_user_id") REFERENCES "user"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user"."refresh_tokens" ADD CONSTRAINT "refresh_tokens_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "user"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user"."sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "user"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user"."user_roles" ADD CONSTRAINT "user_roles_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "user"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user"."user_roles" ADD CONSTRAINT "user_roles_role_name_roles_name_fk" FOREIGN KEY ("role_name") REFERENCES "user"."roles"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_prefix_uq" ON "user"."api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_secret_hash_uq" ON "user"."api_keys" USING btree ("secret_hash");--> statement-breakpoint
CREATE INDEX "api_keys_owner_idx" ON "user"."api_keys" USING btree ("owner_user_id");--> statement-breakpoint
CREATE INDEX "api_keys_role_idx" ON "user"."api_keys" USING btree ("role");--> statement-breakpoint
CREATE INDEX "audit_events_time_idx" ON "user"."audit_events" USING btree ("occur_time","id");--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "user"."audit_events" USING btree ("actor_id","occur_time");--> statement-breakpoint
CREATE INDEX "audit_events_method_idx" ON "user"."audit_events" USING btree ("service","method","occur_time");--> statement-breakpoint
CREATE INDEX "audit_events_resource_idx" ON "user"."audit_events" USING btree ("resource_type","resource_id","occur_time");--> statement-breakpoint
CREATE INDEX "audit_events_request_idx" ON "user"."audit_events" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_session_idx" ON "user"."refresh_tokens" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "user"."sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "user_roles_role_idx" ON "user"."user_roles" USING btree ("role_name");--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_live_uq" ON "user"."users" USING btree ("username") WHERE "user"."users"."deleted_at" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_live_uq" ON "user"."users" USING btree ("email") WHERE "user"."users"."deleted_at" IS NULL;