-- One Reserve as the reservation and inventory services run it, for pgbench (bench/stock.ts runs it).
--
-- This mirrors services/reservation/src/handlers/reservations.ts (reserve: a new order, one line,
-- the stock in the first of two warehouses) and what it calls, in the same order:
-- * insertPending (store/reservations.ts): the PENDING reservation and its audit outbox row, in one
--   statement;
-- * HoldStock in inventory: its planning read and take_holds (as in holds.pgbench.sql);
-- * settle (saga.ts): the reservation recorded ACTIVE with its allocation.
-- It must change when they change. Run BENCH_LOG_SQL=1 to compare it with what the services send.
--
-- Where pgbench differs, and why:
-- * A first statement picks the level (bench.picks: n = 0 is the hot SKU, 1..N the spread ones) and
--   makes the values the services make in JavaScript (ids, the hold's and the lines' JSON): a
--   round trip the services do not make, so it only slows pgbench.
-- * The payload hash, the audit events and the allocation explanation are fixed values of the
--   services' sizes (-D); the outbox rows are written with next_attempt_at = 'infinity' so the
--   running services' relays never take them (the bench deletes them after each run), and the
--   inventory's in a CTE of its own beside take_holds, as in holds.pgbench.sql.
-- * The warehouse list the reservation service keeps (30 s) and the edge's token checks are not
--   database work, and are not here.

\set n random(:lo, :hi)

SELECT r.rid, json_build_array(r.rid)::text AS rids, r.order_id, r.audit_id, r.audit2_id, r.occur, json_build_array(p.item_id)::text AS item_ids,
  json_build_array(json_build_object('lineIndex', 0, 'itemId', p.item_id, 'sku', '', 'quantity', 1,
    'allocations', '[]'::json, 'explanation', ''))::text AS pending_lines,
  json_build_array(json_build_object('lineIndex', 0, 'itemId', p.item_id, 'sku', p.sku, 'quantity', 1,
    'allocations', json_build_array(json_build_object('warehouseId', :w1::uuid, 'warehouseCode', :code1::text, 'locationId', '',
      'stockLevelId', p.level_id, 'quantity', 1, 'rank', 1, 'warehousePriority', 100, 'availableBefore', 999999999,
      'reason', 1, 'explanation', :explanation::text)),
    'explanation', '1 held: 1 from ' || :code1::text || ' (priority 100)'))::text AS held_lines,
  json_build_array(json_build_object(
    'hold', json_build_object('reservation_id', r.rid, 'state', 1, 'payload_hash', :hash::text, 'strategy', 1,
      'allow_split', false, 'warehouse_ids', :warehouses::jsonb,
      'lines', json_build_array(json_build_object('lineIndex', 0, 'itemId', p.item_id, 'sku', p.sku, 'quantity', 1)),
      'shortages', '[]'::json),
    'allocations', json_build_array(json_build_object('reservation_id', r.rid, 'stock_level_id', p.level_id, 'line_index', 0,
      'item_id', p.item_id, 'warehouse_id', :w1::uuid, 'warehouse_code', :code1::text, 'location_id', NULL, 'quantity', 1,
      'rank', 1, 'warehouse_priority', 100, 'available_before', 999999999, 'reason', 1,
      'explanation', :explanation::text, 'movement_id', r.movement_id)),
    'actor', :actor::text,
    'request_id', r.request_id))::text AS takes
FROM (SELECT gen_random_uuid()::text AS rid, gen_random_uuid()::text AS order_id, gen_random_uuid()::text AS request_id,
        gen_random_uuid() AS audit_id, gen_random_uuid() AS audit2_id,
        encode(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid AS movement_id,
        clock_timestamp()::text AS occur) r
CROSS JOIN bench.picks p
WHERE p.n = :n \gset

WITH made AS (
  INSERT INTO "reservation"."reservations" (id, order_id, customer_id, status, lines, strategy, allow_split, warehouse_ids, ttl_seconds,
    payload_hash, request_id, expire_at, created_by, total_quantity)
  VALUES (:rid::uuid, :order_id, 'bench', 1, :pending_lines::jsonb, 1, false, :warehouses::jsonb, 900, :hash, '',
    (now() + interval '900 seconds')::text::timestamptz, :actor, 1)
  ON CONFLICT DO NOTHING
  RETURNING to_json(created_at) #>> '{}' AS created_at),
recorded AS (
  INSERT INTO "reservation"."audit_outbox" (id, occur_time, event, next_attempt_at)
  SELECT :audit_id::uuid, :occur::timestamptz, :event, 'infinity' FROM made
  ON CONFLICT (id) DO NOTHING)
SELECT created_at FROM made;

WITH found AS (
  SELECT i.id, i.sku, i.status FROM inventory.items i
  WHERE i.deleted_at IS NULL AND (i.id IN (SELECT jsonb_array_elements_text(:item_ids::jsonb)::uuid) OR i.sku IN (SELECT jsonb_array_elements_text('[]'::jsonb)::text))
)
SELECT
  (SELECT coalesce(json_agg(h.reservation_id), '[]') FROM inventory.holds h
    WHERE h.reservation_id IN (SELECT jsonb_array_elements_text(:rids::jsonb)::text)) AS held,
  (SELECT coalesce(json_agg(found), '[]') FROM found) AS items,
  (SELECT coalesce(json_agg(json_build_object(
      'id', l.id, 'item_id', l.item_id, 'warehouse_id', l.warehouse_id, 'location_id', l.location_id,
      'available', l.on_hand - l.reserved)), '[]')
    FROM inventory.stock_levels l
    WHERE l.item_id IN (SELECT id FROM found) AND l.warehouse_id IN (SELECT jsonb_array_elements_text(:warehouses::jsonb)::uuid)) AS levels;

WITH audit AS (
  INSERT INTO inventory.audit_outbox (id, occur_time, event, next_attempt_at) VALUES (:audit2_id, :occur, :event, 'infinity')
  ON CONFLICT (id) DO NOTHING RETURNING id)
SELECT t.nth, t.outcome FROM audit, inventory.take_holds(:takes::jsonb) t;

update "reservation"."reservations" set "status" = 2, "lines" = :held_lines, "version" = "reservation"."reservations"."version" + 1, "updated_at" = now() where ("reservation"."reservations"."id" = :rid and "reservation"."reservations"."status" in (1)) returning "id", "order_id", "customer_id", "status", "lines", "strategy", "allow_split", "warehouse_ids", "ttl_seconds", "payload_hash", "request_id", "expire_at", "failure_reason", "failure_message", "shortages", "cancel_reason", "step", "fulfil_reference", "created_by", "version", "created_at", "updated_at", "confirmed_at", "fulfilled_at", "cancelled_at", "total_quantity";
