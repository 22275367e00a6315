CREATE SCHEMA "inventory";
--> statement-breakpoint
CREATE TABLE "inventory"."audit_outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"occur_time" timestamp (6) with time zone NOT NULL,
	"event" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inventory"."hold_allocations" (
	"reservation_id" text NOT NULL,
	"stock_level_id" uuid NOT NULL,
	"line_index" integer NOT NULL,
	"item_id" uuid NOT NULL,
	"warehouse_id" uuid NOT NULL,
	"warehouse_code" text DEFAULT '' NOT NULL,
	"location_id" uuid,
	"quantity" bigint NOT NULL,
	"rank" integer NOT NULL,
	"warehouse_priority" integer NOT NULL,
	"available_before" bigint NOT NULL,
	"reason" smallint NOT NULL,
	"explanation" text NOT NULL,
	CONSTRAINT "hold_allocations_pk" PRIMARY KEY("reservation_id","stock_level_id"),
	CONSTRAINT "hold_allocations_quantity_positive" CHECK ("inventory"."hold_allocations"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "inventory"."holds" (
	"reservation_id" text PRIMARY KEY NOT NULL,
	"state" smallint NOT NULL,
	"payload_hash" text DEFAULT '' NOT NULL,
	"strategy" smallint NOT NULL,
	"allow_split" boolean NOT NULL,
	"warehouse_ids" jsonb NOT NULL,
	"lines" jsonb NOT NULL,
	"shortages" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"release_reason" text DEFAULT '' NOT NULL,
	"commit_reference" text DEFAULT '' NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "holds_state_known" CHECK ("inventory"."holds"."state" BETWEEN 1 AND 5)
);
--> statement-breakpoint
CREATE TABLE "inventory"."idempotent_requests" (
	"scope" text NOT NULL,
	"request_id" text NOT NULL,
	"payload_hash" text NOT NULL,
	"response" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (6) with time zone NOT NULL,
	CONSTRAINT "idempotent_requests_pk" PRIMARY KEY("scope","request_id")
);
--> statement-breakpoint
CREATE TABLE "inventory"."item_types" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"category" smallint NOT NULL,
	"created_by" text DEFAULT '' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone,
	CONSTRAINT "item_types_category_known" CHECK ("inventory"."item_types"."category" BETWEEN 1 AND 7)
);
--> statement-breakpoint
CREATE TABLE "inventory"."items" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sku" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"item_type_id" uuid NOT NULL,
	"unit_of_measure" text DEFAULT 'EA' NOT NULL,
	"price_currency" text,
	"price_units" bigint,
	"price_nanos" integer,
	"image_url" text DEFAULT '' NOT NULL,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" smallint DEFAULT 1 NOT NULL,
	"default_reorder_point" bigint DEFAULT 0 NOT NULL,
	"default_reorder_quantity" bigint DEFAULT 0 NOT NULL,
	"created_by" text DEFAULT '' NOT NULL,
	"updated_by" text DEFAULT '' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone,
	CONSTRAINT "items_status_known" CHECK ("inventory"."items"."status" BETWEEN 1 AND 3),
	CONSTRAINT "items_reorder_non_negative" CHECK ("inventory"."items"."default_reorder_point" >= 0 AND "inventory"."items"."default_reorder_quantity" >= 0),
	CONSTRAINT "items_price_whole" CHECK (("inventory"."items"."price_currency" IS NULL) = ("inventory"."items"."price_units" IS NULL) AND ("inventory"."items"."price_units" IS NULL) = ("inventory"."items"."price_nanos" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "inventory"."movements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "inventory"."movements_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" smallint NOT NULL,
	"stock_level_id" uuid NOT NULL,
	"level_sequence" bigint NOT NULL,
	"item_id" uuid NOT NULL,
	"sku" text NOT NULL,
	"warehouse_id" uuid NOT NULL,
	"location_id" uuid,
	"delta" bigint NOT NULL,
	"reserved_delta" bigint NOT NULL,
	"on_hand_before" bigint NOT NULL,
	"on_hand_after" bigint NOT NULL,
	"reserved_before" bigint NOT NULL,
	"reserved_after" bigint NOT NULL,
	"actor" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"reference" text DEFAULT '' NOT NULL,
	"reservation_id" text DEFAULT '' NOT NULL,
	"related_movement_id" uuid,
	"idempotency_key" text DEFAULT '' NOT NULL,
	"request_id" text DEFAULT '' NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "movements_kind_known" CHECK ("inventory"."movements"."kind" BETWEEN 1 AND 8),
	CONSTRAINT "movements_on_hand_arithmetic" CHECK ("inventory"."movements"."on_hand_after" = "inventory"."movements"."on_hand_before" + "inventory"."movements"."delta"),
	CONSTRAINT "movements_reserved_arithmetic" CHECK ("inventory"."movements"."reserved_after" = "inventory"."movements"."reserved_before" + "inventory"."movements"."reserved_delta"),
	CONSTRAINT "movements_after_valid" CHECK ("inventory"."movements"."on_hand_after" >= 0 AND "inventory"."movements"."reserved_after" >= 0 AND "inventory"."movements"."reserved_after" <= "inventory"."movements"."on_hand_after"),
	CONSTRAINT "movements_changes_something" CHECK ("inventory"."movements"."delta" <> 0 OR "inventory"."movements"."reserved_delta" <> 0),
	CONSTRAINT "movements_level_sequence_positive" CHECK ("inventory"."movements"."level_sequence" >= 1)
);
--> statement-breakpoint
CREATE TABLE "inventory"."stock_levels" (
	"id" uuid PRIMARY KEY NOT NULL,
	"item_id" uuid NOT NULL,
	"sku" text NOT NULL,
	"warehouse_id" uuid NOT NULL,
	"location_id" uuid,
	"on_hand" bigint DEFAULT 0 NOT NULL,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"reorder_point" bigint DEFAULT 0 NOT NULL,
	"reorder_quantity" bigint DEFAULT 0 NOT NULL,
	"sequence" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_levels_place_uq" UNIQUE NULLS NOT DISTINCT("item_id","warehouse_id","location_id"),
	CONSTRAINT "stock_levels_on_hand_non_negative" CHECK ("inventory"."stock_levels"."on_hand" >= 0),
	CONSTRAINT "stock_levels_reserved_non_negative" CHECK ("inventory"."stock_levels"."reserved" >= 0),
	CONSTRAINT "stock_levels_reserved_within_on_hand" CHECK ("inventory"."stock_levels"."reserved" <= "inventory"."stock_levels"."on_hand"),
	CONSTRAINT "stock_levels_reorder_non_negative" CHECK ("inventory"."stock_levels"."reorder_point" >= 0 AND "inventory"."stock_levels"."reorder_quantity" >= 0)
);
--> statement-breakpoint
ALTER TABLE "inventory"."hold_allocations" ADD CONSTRAINT "hold_allocations_reservation_id_holds_reservation_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "inventory"."holds"("reservation_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."hold_allocations" ADD CONSTRAINT "hold_allocations_stock_level_id_stock_levels_id_fk" FOREIGN KEY ("stock_level_id") REFERENCES "inventory"."stock_levels"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."items" ADD CONSTRAINT "items_item_type_id_item_types_id_fk" FOREIGN KEY ("item_type_id") REFERENCES "inventory"."item_types"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."movements" ADD CONSTRAINT "movements_stock_level_id_stock_levels_id_fk" FOREIGN KEY ("stock_level_id") REFERENCES "inventory"."stock_levels"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."stock_levels" ADD CONSTRAINT "stock_levels_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "inventory"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_outbox_next_attempt_at_idx" ON "inventory"."audit_outbox" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE INDEX "hold_allocations_level_idx" ON "inventory"."hold_allocations" USING btree ("stock_level_id");--> statement-breakpoint
CREATE INDEX "hold_allocations_item_idx" ON "inventory"."hold_allocations" USING btree ("item_id");--> statement-breakpoint
CREATE INDEX "hold_allocations_warehouse_idx" ON "inventory"."hold_allocations" USING btree ("warehouse_id");--> statement-breakpoint
CREATE INDEX "holds_created_idx" ON "inventory"."holds" USING btree ("created_at","reservation_id");--> statement-breakpoint
CREATE INDEX "idempotent_requests_expires_idx" ON "inventory"."idempotent_requests" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "item_types_name_live_uq" ON "inventory"."item_types" USING btree (lower("name")) WHERE "inventory"."item_types"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "item_types_name_idx" ON "inventory"."item_types" USING btree ("name","id");--> statement-breakpoint
CREATE UNIQUE INDEX "items_sku_live_uq" ON "inventory"."items" USING btree ("sku") WHERE "inventory"."items"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "items_type_idx" ON "inventory"."items" USING btree ("item_type_id");--> statement-breakpoint
CREATE UNIQUE INDEX "movements_level_sequence_uq" ON "inventory"."movements" USING btree ("stock_level_id","level_sequence");--> statement-breakpoint
CREATE UNIQUE INDEX "movements_sequence_uq" ON "inventory"."movements" USING btree ("sequence");--> statement-breakpoint
CREATE INDEX "movements_time_idx" ON "inventory"."movements" USING btree ("created_at","sequence");--> statement-breakpoint
CREATE INDEX "movements_item_idx" ON "inventory"."movements" USING btree ("item_id","created_at","sequence");--> statement-breakpoint
CREATE INDEX "movements_warehouse_idx" ON "inventory"."movements" USING btree ("warehouse_id","created_at","sequence");--> statement-breakpoint
CREATE INDEX "movements_reservation_idx" ON "inventory"."movements" USING btree ("reservation_id") WHERE "inventory"."movements"."reservation_id" <> '';--> statement-breakpoint
CREATE INDEX "stock_levels_sku_idx" ON "inventory"."stock_levels" USING btree ("sku","warehouse_id","location_id");--> statement-breakpoint
CREATE INDEX "stock_levels_warehouse_idx" ON "inventory"."stock_levels" USING btree ("warehouse_id","location_id");