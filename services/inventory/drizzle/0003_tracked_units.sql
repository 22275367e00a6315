-- Tracked units: individually identified pieces that contain each other to any depth, forming
-- trees. Every unit carries its tree's facts: root_id (the top-level unit), depth (0 at the top)
-- and the place (warehouse_id, location_id), which is the root's. One composite foreign key from a
-- unit to its parent requires the parent to have the same root and place and a depth one less.
-- The database therefore enforces, under any interleaving of writers:
--   * a unit is always where its root is (a move that leaves one behind cannot commit);
--   * there are no cycles: depth falls by exactly one along every parent link, so a chain of
--     parents can never come back to where it started, and two concurrent assignments that would
--     close a loop (A into B, B into A) cannot both commit: the second one's key check fails;
--   * a unit has at most one parent (one column).
-- place_key and parent_depth exist only for that key: location_id is null at warehouse level,
-- and a null would switch the key check off.
CREATE TABLE "inventory"."tracked_units" (
  "id" uuid PRIMARY KEY,
  "item_id" uuid NOT NULL REFERENCES "inventory"."items" ("id"),
  "serial_number" text NOT NULL DEFAULT '',
  "label" text NOT NULL DEFAULT '',
  "description" text NOT NULL DEFAULT '',
  "attributes" jsonb NOT NULL DEFAULT '{}'::jsonb,
  "parent_id" uuid,
  "root_id" uuid NOT NULL,
  "depth" integer NOT NULL DEFAULT 0,
  "parent_depth" integer GENERATED ALWAYS AS ("depth" - 1) STORED,
  "warehouse_id" uuid NOT NULL,
  "location_id" uuid,
  "place_key" uuid GENERATED ALWAYS AS (coalesce("location_id", '00000000-0000-0000-0000-000000000000'::uuid)) STORED,
  "last_moved_at" timestamp (6) with time zone,
  "created_by" text NOT NULL DEFAULT '',
  "version" integer NOT NULL DEFAULT 1,
  "created_at" timestamp (6) with time zone NOT NULL DEFAULT now(),
  "updated_at" timestamp (6) with time zone NOT NULL DEFAULT now(),
  "deleted_at" timestamp (6) with time zone,
  CONSTRAINT "tracked_units_tree_key" UNIQUE ("id", "root_id", "depth", "warehouse_id", "place_key"),
  CONSTRAINT "tracked_units_in_parent_fk" FOREIGN KEY ("parent_id", "root_id", "parent_depth", "warehouse_id", "place_key")
    REFERENCES "inventory"."tracked_units" ("id", "root_id", "depth", "warehouse_id", "place_key"),
  CONSTRAINT "tracked_units_top_level" CHECK (("parent_id" IS NULL) = ("depth" = 0) AND ("parent_id" IS NULL) = ("root_id" = "id")),
  CONSTRAINT "tracked_units_not_own_parent" CHECK ("parent_id" IS DISTINCT FROM "id"),
  CONSTRAINT "tracked_units_deleted_alone" CHECK ("deleted_at" IS NULL OR "parent_id" IS NULL)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "tracked_units_serial_live_uq" ON "inventory"."tracked_units" ("item_id", "serial_number")
  WHERE "deleted_at" IS NULL AND "serial_number" <> '';
--> statement-breakpoint
-- The key's own check looks children up by every column of the key, with a generic plan; an
-- index on exactly those columns keeps a 10,000-unit move near a second even before the table
-- has statistics (the embedded default never gathers them), where an index on parent_id alone,
-- or one the planner guessed, made it 10 to 20 seconds.
CREATE INDEX "tracked_units_in_parent_idx" ON "inventory"."tracked_units" ("parent_id", "root_id", "parent_depth", "warehouse_id", "place_key");
--> statement-breakpoint
-- The indexes the service's own queries use are partial, on live units: the key's checks (which
-- never say "live") then cannot pick them. A check planned once through one of these, while the
-- table was small, scanned a whole pallet for every unit of it from then on (15 s for a move).
CREATE INDEX "tracked_units_root_idx" ON "inventory"."tracked_units" ("root_id") WHERE "deleted_at" IS NULL;
--> statement-breakpoint
CREATE INDEX "tracked_units_place_idx" ON "inventory"."tracked_units" ("warehouse_id", "location_id") WHERE "deleted_at" IS NULL;
--> statement-breakpoint
CREATE INDEX "tracked_units_item_idx" ON "inventory"."tracked_units" ("item_id");
--> statement-breakpoint

-- Where units went: one row per unit per change of place, written by the same statement as the
-- change. A unit carried by its parent links to the parent's record of the same operation
-- (parent_move_id); origin_move_id names the DIRECT or ASSIGNED record that started it.
CREATE TABLE "inventory"."unit_moves" (
  "id" uuid PRIMARY KEY,
  "sequence" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  "unit_id" uuid NOT NULL REFERENCES "inventory"."tracked_units" ("id"),
  "item_id" uuid NOT NULL,
  "from_warehouse_id" uuid NOT NULL,
  "from_location_id" uuid,
  "to_warehouse_id" uuid NOT NULL,
  "to_location_id" uuid,
  -- inventory.v1.UnitMoveCause: 1 direct, 2 parent moved, 3 assigned.
  "cause" smallint NOT NULL,
  "parent_move_id" uuid REFERENCES "inventory"."unit_moves" ("id"),
  "origin_move_id" uuid NOT NULL,
  "moved_by" text NOT NULL,
  "notes" text NOT NULL DEFAULT '',
  "request_id" text NOT NULL DEFAULT '',
  "moved_at" timestamp (6) with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "unit_moves_cause_known" CHECK ("cause" BETWEEN 1 AND 3),
  CONSTRAINT "unit_moves_carried_linked" CHECK (("cause" = 2) = ("parent_move_id" IS NOT NULL)),
  CONSTRAINT "unit_moves_origin" CHECK (("cause" = 2) = ("origin_move_id" <> "id")),
  CONSTRAINT "unit_moves_changes_place" CHECK (("from_warehouse_id", coalesce("from_location_id", '00000000-0000-0000-0000-000000000000'::uuid))
    <> ("to_warehouse_id", coalesce("to_location_id", '00000000-0000-0000-0000-000000000000'::uuid)))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "unit_moves_sequence_uq" ON "inventory"."unit_moves" ("sequence");
--> statement-breakpoint
CREATE INDEX "unit_moves_time_idx" ON "inventory"."unit_moves" ("moved_at", "sequence");
--> statement-breakpoint
CREATE INDEX "unit_moves_unit_idx" ON "inventory"."unit_moves" ("unit_id", "moved_at", "sequence");
--> statement-breakpoint
CREATE INDEX "unit_moves_origin_idx" ON "inventory"."unit_moves" ("origin_move_id", "sequence");
--> statement-breakpoint
CREATE INDEX "unit_moves_parent_move_idx" ON "inventory"."unit_moves" ("parent_move_id") WHERE "parent_move_id" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "unit_moves_to_warehouse_idx" ON "inventory"."unit_moves" ("to_warehouse_id", "moved_at", "sequence");
--> statement-breakpoint
CREATE INDEX "unit_moves_from_warehouse_idx" ON "inventory"."unit_moves" ("from_warehouse_id", "moved_at", "sequence");
--> statement-breakpoint

-- Changes of parent: one row per ASSIGN (none before), UNASSIGN (none after) or REASSIGN
-- (one parent to another), written in the same transaction as the change.
CREATE TABLE "inventory"."unit_assignments" (
  "id" uuid PRIMARY KEY,
  "sequence" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  "child_unit_id" uuid NOT NULL REFERENCES "inventory"."tracked_units" ("id"),
  "previous_parent_id" uuid REFERENCES "inventory"."tracked_units" ("id"),
  "parent_id" uuid REFERENCES "inventory"."tracked_units" ("id"),
  -- inventory.v1.AssignmentAction: 1 assign, 2 unassign, 3 reassign.
  "action" smallint NOT NULL,
  "actor" text NOT NULL,
  "notes" text NOT NULL DEFAULT '',
  "request_id" text NOT NULL DEFAULT '',
  "created_at" timestamp (6) with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "unit_assignments_action_shape" CHECK (
    ("action" = 1 AND "previous_parent_id" IS NULL AND "parent_id" IS NOT NULL)
    OR ("action" = 2 AND "previous_parent_id" IS NOT NULL AND "parent_id" IS NULL)
    OR ("action" = 3 AND "previous_parent_id" IS NOT NULL AND "parent_id" IS NOT NULL AND "previous_parent_id" <> "parent_id"))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "unit_assignments_sequence_uq" ON "inventory"."unit_assignments" ("sequence");
--> statement-breakpoint
CREATE INDEX "unit_assignments_time_idx" ON "inventory"."unit_assignments" ("created_at", "sequence");
--> statement-breakpoint
CREATE INDEX "unit_assignments_child_idx" ON "inventory"."unit_assignments" ("child_unit_id", "created_at", "sequence");
--> statement-breakpoint
CREATE INDEX "unit_assignments_parent_idx" ON "inventory"."unit_assignments" ("parent_id") WHERE "parent_id" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "unit_assignments_previous_parent_idx" ON "inventory"."unit_assignments" ("previous_parent_id") WHERE "previous_parent_id" IS NOT NULL;
--> statement-breakpoint

-- Both histories are append-only, like the ledger.
CREATE FUNCTION "inventory"."history_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, lower(TG_OP)
    USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "unit_moves_append_only" BEFORE UPDATE OR DELETE ON "inventory"."unit_moves"
  FOR EACH ROW EXECUTE FUNCTION "inventory"."history_append_only"();
--> statement-breakpoint
CREATE TRIGGER "unit_moves_no_truncate" BEFORE TRUNCATE ON "inventory"."unit_moves"
  FOR EACH STATEMENT EXECUTE FUNCTION "inventory"."history_append_only"();
--> statement-breakpoint
CREATE TRIGGER "unit_assignments_append_only" BEFORE UPDATE OR DELETE ON "inventory"."unit_assignments"
  FOR EACH ROW EXECUTE FUNCTION "inventory"."history_append_only"();
--> statement-breakpoint
CREATE TRIGGER "unit_assignments_no_truncate" BEFORE TRUNCATE ON "inventory"."unit_assignments"
  FOR EACH STATEMENT EXECUTE FUNCTION "inventory"."history_append_only"();
