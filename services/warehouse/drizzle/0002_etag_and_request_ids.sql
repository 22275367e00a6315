CREATE TABLE "warehouse"."idempotent_requests" (
	"scope" text NOT NULL,
	"request_id" text NOT NULL,
	"payload_hash" text NOT NULL,
	"response" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (6) with time zone NOT NULL,
	CONSTRAINT "idempotent_requests_pk" PRIMARY KEY("scope","request_id")
);
--> statement-breakpoint
ALTER TABLE "warehouse"."location_types" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "warehouse"."locations" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "warehouse"."warehouses" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX "idempotent_requests_expires_idx" ON "warehouse"."idempotent_requests" USING btree ("expires_at");