-- The ledger is append-only: an entry, once written, is never changed or removed.
CREATE FUNCTION "inventory"."movements_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the stock ledger is append-only: % of a movement is not allowed', lower(TG_OP)
    USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "movements_append_only" BEFORE UPDATE OR DELETE ON "inventory"."movements"
  FOR EACH ROW EXECUTE FUNCTION "inventory"."movements_append_only"();
--> statement-breakpoint
CREATE TRIGGER "movements_no_truncate" BEFORE TRUNCATE ON "inventory"."movements"
  FOR EACH STATEMENT EXECUTE FUNCTION "inventory"."movements_append_only"();
--> statement-breakpoint
-- Every change of a level's quantities has its ledger entry: at commit, each new version of a level
-- must be described by the entry with its sequence number and its quantities after the change.
-- Together with the unique (stock_level_id, level_sequence) and the entries' own arithmetic checks,
-- a level's on_hand is always the sum of its entries' deltas, and reserved of their reserved deltas.
CREATE FUNCTION "inventory"."stock_level_has_entry"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM "inventory"."movements" m
    WHERE m.stock_level_id = NEW.id AND m.level_sequence = NEW.sequence
      AND m.on_hand_after = NEW.on_hand AND m.reserved_after = NEW.reserved
  ) THEN
    RAISE EXCEPTION 'stock level % changed to on_hand %, reserved % without a ledger entry for sequence %',
      NEW.id, NEW.on_hand, NEW.reserved, NEW.sequence
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "stock_levels_have_entries" AFTER INSERT OR UPDATE ON "inventory"."stock_levels"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.sequence > 0)
  EXECUTE FUNCTION "inventory"."stock_level_has_entry"();
--> statement-breakpoint
-- A level's quantities change only together with its sequence number.
ALTER TABLE "inventory"."stock_levels" ADD CONSTRAINT "stock_levels_empty_until_first_entry"
  CHECK ("sequence" > 0 OR ("on_hand" = 0 AND "reserved" = 0));
