CREATE TABLE "warehouse"."audit_outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"occur_time" timestamp (6) with time zone NOT NULL,
	"event" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_outbox_next_attempt_at_idx" ON "warehouse"."audit_outbox" USING btree ("next_attempt_at");