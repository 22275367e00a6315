-- Batches of holds without subtransactions.
--
-- take_holds (0002) took each hold of a batch in a subtransaction of its own (a plpgsql block with
-- an EXCEPTION clause), after locking the batch's levels in level id order. A subtransaction that
-- updates a row its parent transaction has locked makes Postgres record both lockers of that row
-- version as a MultiXact, and every later reader of the row has to look that MultiXact up: on a
-- hot level, every hold of every batch paid for it, and so did everyone reading the level after.
--
-- A batch now reads what each of its levels can still give while it locks them, and takes a hold
-- only when every one of its allocations fits what is left; one that does not is "stale" and
-- writes nothing, so there is nothing to roll back and no subtransaction. Locked, the levels
-- cannot change under the batch, so the conditional UPDATE in apply_to_level cannot fail there;
-- if it ever did, the whole statement would fail and nothing of the batch would be written.
--
-- A lone hold still takes its levels' locks as it goes, without locking them first (that lock
-- cost a lone hold about 15% of its rate), so a level that cannot give its quantity is only found
-- by the UPDATE: the hold's block rolls back, which for a lone hold is no MultiXact (nothing
-- locked the row before the block).

-- One planned hold taken: the hold, its allocations, its audit record, and each allocation
-- reserved on its level with its ledger entry, in level id order. Returns the hold's created_at as
-- ISO text, or "held" (writing nothing) when the reservation has a hold already. Raises IH001 when
-- a level cannot give its allocation; the caller decides what that rolls back.
CREATE FUNCTION "inventory"."take_hold"(p_take jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  a record;
  held inventory.holds;
BEGIN
  INSERT INTO inventory.holds (reservation_id, state, payload_hash, strategy, allow_split, warehouse_ids, lines, shortages)
  SELECT r.reservation_id, r.state, r.payload_hash, r.strategy, r.allow_split, r.warehouse_ids, r.lines, r.shortages
  FROM jsonb_populate_record(NULL::inventory.holds, p_take->'hold') r
  ON CONFLICT DO NOTHING
  RETURNING * INTO held;
  IF NOT FOUND THEN
    RETURN 'held';
  END IF;
  INSERT INTO inventory.hold_allocations
  SELECT * FROM jsonb_populate_recordset(NULL::inventory.hold_allocations, p_take->'allocations');
  IF p_take ? 'audit' THEN
    INSERT INTO inventory.audit_outbox (id, occur_time, event)
    VALUES ((p_take#>>'{audit,id}')::uuid, (p_take#>>'{audit,occur_time}')::timestamptz, p_take#>>'{audit,event}')
    ON CONFLICT (id) DO NOTHING;
  END IF;
  FOR a IN
    SELECT x.stock_level_id, x.quantity, x.movement_id
    FROM jsonb_to_recordset(p_take->'allocations') AS x(stock_level_id uuid, quantity bigint, movement_id uuid)
    ORDER BY x.stock_level_id
  LOOP
    PERFORM FROM inventory.apply_to_level(a.stock_level_id, 5::smallint, 0, a.quantity, a.movement_id,
      p_take->>'actor', 'hold', '', held.reservation_id, held.reservation_id, p_take->>'request_id');
    IF NOT FOUND THEN
      RAISE EXCEPTION 'stock level % cannot hold % more for reservation %', a.stock_level_id, a.quantity, held.reservation_id
        USING ERRCODE = 'IH001';
    END IF;
  END LOOP;
  RETURN to_json(held.created_at) #>> '{}';
END
$$;
--> statement-breakpoint
-- p_holds and the rows returned are as in 0002: a JSON array of {hold, allocations, actor,
-- request_id, audit?}, and a row per hold (its 1-based position in p_holds) saying its created_at
-- when taken, "held" or "stale". Holds are taken in reservation id order.
CREATE OR REPLACE FUNCTION "inventory"."take_holds"(p_holds jsonb) RETURNS TABLE ("nth" integer, "outcome" text)
LANGUAGE plpgsql AS $$
DECLARE
  h record;
  -- In a batch: for each level locked, by level id, what it can still give.
  free jsonb;
BEGIN
  IF jsonb_array_length(p_holds) = 1 THEN
    nth := 1;
    BEGIN
      outcome := inventory.take_hold(p_holds->0);
    EXCEPTION WHEN SQLSTATE 'IH001' THEN
      outcome := 'stale';
    END;
    RETURN NEXT;
    RETURN;
  END IF;

  SELECT coalesce(jsonb_object_agg(l.id, l.free), '{}') INTO free
  FROM (
    SELECT s.id, s.on_hand - s.reserved AS free
    FROM inventory.stock_levels s
    WHERE s.id IN (
      SELECT (x.value->>'stock_level_id')::uuid
      FROM jsonb_array_elements(p_holds) t, jsonb_array_elements(t.value->'allocations') x)
    ORDER BY s.id
    FOR UPDATE) l;

  FOR h IN
    SELECT t.value AS take, t.ordinality::integer AS n
    FROM jsonb_array_elements(p_holds) WITH ORDINALITY t
    ORDER BY t.value #>> '{hold,reservation_id}', t.ordinality
  LOOP
    nth := h.n;
    IF EXISTS (
      SELECT FROM jsonb_to_recordset(h.take->'allocations') AS x(stock_level_id uuid, quantity bigint)
      GROUP BY x.stock_level_id
      HAVING sum(x.quantity) > coalesce((free->>x.stock_level_id::text)::bigint, 0)
    ) THEN
      outcome := 'stale';
    ELSE
      outcome := inventory.take_hold(h.take);
      IF outcome <> 'held' THEN
        SELECT free || coalesce(jsonb_object_agg(x.stock_level_id, (free->>x.stock_level_id::text)::bigint - x.quantity), '{}')
        INTO free
        FROM (
          SELECT y.stock_level_id, sum(y.quantity) AS quantity
          FROM jsonb_to_recordset(h.take->'allocations') AS y(stock_level_id uuid, quantity bigint)
          GROUP BY y.stock_level_id) x;
      END IF;
    END IF;
    RETURN NEXT;
  END LOOP;
END
$$;
