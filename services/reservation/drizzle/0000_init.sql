CREATE SCHEMA "reservation";
--> statement-breakpoint
CREATE TABLE "reservation"."audit_outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"occur_time" timestamp (6) with time zone NOT NULL,
	"event" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reservation"."reservations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"status" smallint NOT NULL,
	"lines" jsonb NOT NULL,
	"strategy" smallint NOT NULL,
	"allow_split" boolean NOT NULL,
	"warehouse_ids" jsonb NOT NULL,
	"ttl_seconds" integer NOT NULL,
	"payload_hash" text NOT NULL,
	"request_id" text DEFAULT '' NOT NULL,
	"expire_at" timestamp (6) with time zone,
	"failure_reason" smallint DEFAULT 0 NOT NULL,
	"failure_message" text DEFAULT '' NOT NULL,
	"shortages" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cancel_reason" text DEFAULT '' NOT NULL,
	"step" text DEFAULT '' NOT NULL,
	"fulfil_reference" text DEFAULT '' NOT NULL,
	"created_by" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"confirmed_at" timestamp (6) with time zone,
	"fulfilled_at" timestamp (6) with time zone,
	"cancelled_at" timestamp (6) with time zone,
	"total_quantity" bigint NOT NULL,
	CONSTRAINT "reservations_status_known" CHECK ("reservation"."reservations"."status" BETWEEN 1 AND 7),
	CONSTRAINT "reservations_expiry_while_open" CHECK (("reservation"."reservations"."status" IN (1, 2)) = ("reservation"."reservations"."expire_at" IS NOT NULL)),
	CONSTRAINT "reservations_ttl_positive" CHECK ("reservation"."reservations"."ttl_seconds" > 0),
	CONSTRAINT "reservations_step_known" CHECK ("reservation"."reservations"."step" IN ('', 'confirm', 'cancel'))
);
--> statement-breakpoint
CREATE INDEX "audit_outbox_next_attempt_at_idx" ON "reservation"."audit_outbox" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE UNIQUE INDEX "reservations_live_order_uq" ON "reservation"."reservations" USING btree ("order_id") WHERE "reservation"."reservations"."status" IN (1, 2, 3, 4);--> statement-breakpoint
CREATE UNIQUE INDEX "reservations_request_uq" ON "reservation"."reservations" USING btree ("request_id") WHERE "reservation"."reservations"."request_id" <> '';--> statement-breakpoint
CREATE INDEX "reservations_order_idx" ON "reservation"."reservations" USING btree ("order_id","created_at");--> statement-breakpoint
CREATE INDEX "reservations_created_idx" ON "reservation"."reservations" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "reservations_customer_idx" ON "reservation"."reservations" USING btree ("customer_id","created_at","id");--> statement-breakpoint
CREATE INDEX "reservations_expiry_idx" ON "reservation"."reservations" USING btree ("expire_at") WHERE "reservation"."reservations"."status" IN (1, 2);--> statement-breakpoint
CREATE INDEX "reservations_unsettled_idx" ON "reservation"."reservations" USING btree ("updated_at") WHERE "reservation"."reservations"."status" = 1 OR "reservation"."reservations"."step" <> '';