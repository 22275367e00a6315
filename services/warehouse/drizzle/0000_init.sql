CREATE SCHEMA "warehouse";
--> statement-breakpoint
CREATE TABLE "warehouse"."location_types" (
	"id" uuid PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone
);
--> statement-breakpoint
CREATE TABLE "warehouse"."locations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"warehouse_id" uuid NOT NULL,
	"parent_id" uuid,
	"location_type_id" uuid NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"path" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone,
	CONSTRAINT "locations_not_own_parent" CHECK ("warehouse"."locations"."parent_id" IS DISTINCT FROM "warehouse"."locations"."id")
);
--> statement-breakpoint
CREATE TABLE "warehouse"."warehouses" (
	"id" uuid PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"address" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone,
	CONSTRAINT "warehouses_priority_range" CHECK ("warehouse"."warehouses"."priority" BETWEEN 0 AND 1000)
);
--> statement-breakpoint
ALTER TABLE "warehouse"."locations" ADD CONSTRAINT "locations_warehouse_id_warehouses_id_fk" FOREIGN KEY ("warehouse_id") REFERENCES "warehouse"."warehouses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "warehouse"."locations" ADD CONSTRAINT "locations_parent_id_locations_id_fk" FOREIGN KEY ("parent_id") REFERENCES "warehouse"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "warehouse"."locations" ADD CONSTRAINT "locations_location_type_id_location_types_id_fk" FOREIGN KEY ("location_type_id") REFERENCES "warehouse"."location_types"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "location_types_code_live_uq" ON "warehouse"."location_types" USING btree ("code") WHERE "warehouse"."location_types"."deleted_at" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "locations_code_live_uq" ON "warehouse"."locations" USING btree ("warehouse_id","code") WHERE "warehouse"."locations"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "locations_warehouse_idx" ON "warehouse"."locations" USING btree ("warehouse_id","id");--> statement-breakpoint
CREATE INDEX "locations_parent_idx" ON "warehouse"."locations" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "locations_type_idx" ON "warehouse"."locations" USING btree ("location_type_id");--> statement-breakpoint
CREATE UNIQUE INDEX "warehouses_code_live_uq" ON "warehouse"."warehouses" USING btree ("code") WHERE "warehouse"."warehouses"."deleted_at" IS NULL;