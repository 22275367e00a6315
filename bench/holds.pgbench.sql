-- One HoldStock as the inventory service runs it, for pgbench (bench/holds.ts runs it).
--
-- This mirrors services/inventory/src/handlers/holds.ts (holdStock: a new hold of one line, the
-- stock in the first of two warehouses) and the store functions it calls: readHoldPlannings and
-- takeHolds (store/holds.ts), which calls the database function inventory.take_holds (migrations
-- 0002 and 0004: the hold, its allocation, the audit outbox row, the level's conditional UPDATE
-- and its ledger entry) with a batch of one hold. The two statements are the service's
-- own, in the same order; this must change when they change. Run BENCH_LOG_SQL=1 to compare them
-- with what the service sends.
--
-- The service batches the planning reads and the takes of holds that arrive while its statements
-- are busy (hold-batches.ts); pgbench reads and takes every hold on its own, as a quiet service
-- does. That is the comparison the bench makes:
-- the service's way of taking holds under load against Postgres running one hold's statements.
--
-- Where pgbench differs, and why:
-- * A first statement picks the level (bench.picks, made by the bench from the seeded rows: n = 0
--   is the hot SKU, 1..N the spread ones) and makes the values the service makes in JavaScript
--   (reservation id, request id, the audit event's id, the movement's UUIDv7, the hold's and the
--   allocation's JSON): a round trip the service does not make, so it only slows pgbench.
-- * The values that do not change what Postgres does (payload hash, audit event, allocation
--   explanation) are fixed ones of the service's sizes, passed as variables (-D) by the bench.
-- * The outbox row is written by the statement itself, with next_attempt_at = 'infinity' instead
--   of now(), and take_holds gets no audit row: the running service's audit relay never takes
--   pgbench's rows; the bench deletes them after each run. The same rows are inserted in the same
--   statement; only the order within it differs.
--
-- Variables from the bench: lo, hi (the range of n), w1 (the id of the warehouse with the stock),
-- code1 (its code), warehouses (the JSON array of both warehouse ids), hash, event, explanation,
-- split, actor (a variable: pgbench would take the colon in 'service:reservation' for one).

\set n random(:lo, :hi)

SELECT r.rid, json_build_array(r.rid)::text AS rids, r.audit_id, r.occur, json_build_array(p.item_id)::text AS item_ids,
  json_build_array(json_build_object(
    'hold', json_build_object('reservation_id', r.rid, 'state', 1, 'payload_hash', :hash::text, 'strategy', 1,
      'allow_split', :split::boolean, 'warehouse_ids', :warehouses::jsonb,
      'lines', json_build_array(json_build_object('lineIndex', 0, 'itemId', p.item_id, 'sku', p.sku, 'quantity', 1)),
      'shortages', '[]'::json),
    'allocations', json_build_array(json_build_object('reservation_id', r.rid, 'stock_level_id', p.level_id, 'line_index', 0,
      'item_id', p.item_id, 'warehouse_id', :w1::uuid, 'warehouse_code', :code1::text, 'location_id', NULL, 'quantity', 1,
      'rank', 1, 'warehouse_priority', 100, 'available_before', 999999999, 'reason', 1,
      'explanation', :explanation::text, 'movement_id', r.movement_id)),
    'actor', :actor::text,
    'request_id', r.request_id))::text AS takes
FROM (SELECT gen_random_uuid()::text AS rid, gen_random_uuid()::text AS request_id, gen_random_uuid() AS audit_id,
        encode(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid AS movement_id,
        clock_timestamp()::text AS occur) r
CROSS JOIN bench.picks p
WHERE p.n = :n \gset

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
  INSERT INTO inventory.audit_outbox (id, occur_time, event, next_attempt_at) VALUES (:audit_id, :occur, :event, 'infinity')
  ON CONFLICT (id) DO NOTHING RETURNING id)
SELECT t.nth, t.outcome FROM audit, inventory.take_holds(:takes::jsonb) t;
