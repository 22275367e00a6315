-- One change of a stock level known by id, with its ledger entry, as one statement: the changes
-- holds make (hold, release, commit, restock). The WHERE clause keeps 0 <= reserved <= on_hand,
-- re-checked by Postgres on the newest row version, so a level that cannot take the change is
-- left as it is and no row is returned. store/levels.ts makes the same statement for changes by
-- place, which may also create the level or compare on_hand first.
CREATE FUNCTION "inventory"."apply_to_level"(
  p_level_id uuid, p_kind smallint, p_on_hand bigint, p_reserved bigint, p_movement_id uuid,
  p_actor text, p_reason text, p_reference text, p_reservation_id text, p_idempotency_key text, p_request_id text
) RETURNS TABLE ("level" json, "movement" json) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH lvl AS (
    UPDATE inventory.stock_levels l
    SET on_hand = l.on_hand + p_on_hand, reserved = l.reserved + p_reserved,
        sequence = l.sequence + 1, updated_at = now()
    WHERE l.id = p_level_id
      AND l.reserved + p_reserved >= 0
      AND l.on_hand + p_on_hand >= l.reserved + p_reserved
    RETURNING l.*
  ), mv AS (
    INSERT INTO inventory.movements
      (id, kind, stock_level_id, level_sequence, item_id, sku, warehouse_id, location_id, delta, reserved_delta,
       on_hand_before, on_hand_after, reserved_before, reserved_after, actor, reason, reference, reservation_id,
       related_movement_id, idempotency_key, request_id)
    SELECT p_movement_id, p_kind, lvl.id, lvl.sequence, lvl.item_id, lvl.sku, lvl.warehouse_id, lvl.location_id,
      p_on_hand, p_reserved, lvl.on_hand - p_on_hand, lvl.on_hand, lvl.reserved - p_reserved, lvl.reserved,
      p_actor, p_reason, p_reference, p_reservation_id, NULL, p_idempotency_key, p_request_id
    FROM lvl
    RETURNING *
  )
  SELECT row_to_json(lvl), row_to_json(mv) FROM lvl, mv;
END
$$;
--> statement-breakpoint
-- Holds as one statement: the service plans each (domain/allocation.ts), this takes them, a batch
-- at a time (the service batches the holds that arrive while earlier ones are being taken).
--
-- For a batch it first locks every level any of the holds takes from, in level id order (a
-- lone hold takes its levels' locks in that order as it goes); then, for each hold
-- in reservation id order and in a subtransaction of its own, it records the hold, its
-- allocations and its audit record, and reserves each allocation on its level with its ledger
-- entry (apply_to_level). Every write that locks several levels by id locks them in that order,
-- so batches never deadlock each other or single writes; levels are locked until the statement
-- ends, with no round trip to the service in between.
--
-- p_holds: a JSON array of {hold, allocations, actor, request_id, audit?}: hold is the holds row
-- and allocations the hold_allocations rows (snake_case keys), each with the movement_id of its
-- ledger entry; audit is the outbox row {id, occur_time, event}. Returns a row per hold (its
-- 1-based position in p_holds): its created_at as ISO text when taken; "held" when the
-- reservation has a hold already; "stale" when a level can no longer give its planned quantity
-- (another hold took the stock after the plan was read). A hold not taken changes nothing; the
-- service plans a stale one again from fresh numbers.
CREATE FUNCTION "inventory"."take_holds"(p_holds jsonb) RETURNS TABLE ("nth" integer, "outcome" text)
LANGUAGE plpgsql AS $$
DECLARE
  h record;
  a record;
  held inventory.holds;
BEGIN
  -- One hold locks its levels in order as it changes them; a batch locks all of them first.
  IF jsonb_array_length(p_holds) > 1 THEN
    PERFORM FROM inventory.stock_levels l
    WHERE l.id IN (
      SELECT (x.value->>'stock_level_id')::uuid
      FROM jsonb_array_elements(p_holds) t, jsonb_array_elements(t.value->'allocations') x)
    ORDER BY l.id
    FOR UPDATE;
  END IF;

  FOR h IN
    SELECT t.value AS take, t.ordinality::integer AS n
    FROM jsonb_array_elements(p_holds) WITH ORDINALITY t
    ORDER BY t.value #>> '{hold,reservation_id}', t.ordinality
  LOOP
    nth := h.n;
    BEGIN
      INSERT INTO inventory.holds (reservation_id, state, payload_hash, strategy, allow_split, warehouse_ids, lines, shortages)
      SELECT r.reservation_id, r.state, r.payload_hash, r.strategy, r.allow_split, r.warehouse_ids, r.lines, r.shortages
      FROM jsonb_populate_record(NULL::inventory.holds, h.take->'hold') r
      ON CONFLICT DO NOTHING
      RETURNING * INTO held;
      IF NOT FOUND THEN
        outcome := 'held';
      ELSE
        INSERT INTO inventory.hold_allocations
        SELECT * FROM jsonb_populate_recordset(NULL::inventory.hold_allocations, h.take->'allocations');
        IF h.take ? 'audit' THEN
          INSERT INTO inventory.audit_outbox (id, occur_time, event)
          VALUES ((h.take#>>'{audit,id}')::uuid, (h.take#>>'{audit,occur_time}')::timestamptz, h.take#>>'{audit,event}')
          ON CONFLICT (id) DO NOTHING;
        END IF;
        FOR a IN
          SELECT x.stock_level_id, x.quantity, x.movement_id
          FROM jsonb_to_recordset(h.take->'allocations') AS x(stock_level_id uuid, quantity bigint, movement_id uuid)
          ORDER BY x.stock_level_id
        LOOP
          PERFORM FROM inventory.apply_to_level(a.stock_level_id, 5::smallint, 0, a.quantity, a.movement_id,
            h.take->>'actor', 'hold', '', held.reservation_id, held.reservation_id, h.take->>'request_id');
          IF NOT FOUND THEN
            RAISE EXCEPTION 'stock level % cannot hold % more for reservation %', a.stock_level_id, a.quantity, held.reservation_id
              USING ERRCODE = 'IH001';
          END IF;
        END LOOP;
        outcome := to_json(held.created_at) #>> '{}';
      END IF;
    EXCEPTION WHEN SQLSTATE 'IH001' THEN
      outcome := 'stale';
    END;
    RETURN NEXT;
  END LOOP;
END
$$;
