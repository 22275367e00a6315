-- One HoldStock as the inventory service runs it, for pgbench (bench/holds.ts runs it).
--
-- This mirrors services/inventory/src/handlers/holds.ts (holdStock: a new hold of one line, the
-- stock in the first of two warehouses) and the store functions it calls: findHold and
-- insertHold, insertAllocations, levelsFor (store/holds.ts), itemsByRefs (store/stock-reads.ts),
-- applyToLevel (store/levels.ts) and the audit outbox row (packages/platform/src/audit/trail.ts).
-- The statements are the service's own, as Postgres logs them (BENCH_LOG_SQL=1), in the same
-- order and the same transaction shape. It must change when they change.
--
-- Where pgbench differs, and why:
-- * The first statement also picks the level (bench.picks, made by the bench from the seeded
--   rows: n = 0 is the hot SKU, 1..N the spread ones) and makes the values the service makes in
--   JavaScript (reservation id, request id, the audit event's id, the movement's UUIDv7, the
--   hold's lines): one index probe more than the service's first statement, in the same round trip.
-- * The values that do not change what Postgres does (payload hash, audit event, allocation
--   explanation) are fixed ones of the service's sizes, passed as variables (-D) by the bench;
--   the ledger entry's reason and reference are literals here, parameters in the service.
-- * The outbox row is written with next_attempt_at = 'infinity' instead of now(): the running
--   service's audit relay never takes pgbench's rows; the bench deletes them after each run.
-- * The service runs the three reads outside the transaction, at once, on whichever pooled
--   connections are free; pgbench runs them one after the other on its client's one connection.
-- * The allocation and the audit row go out together, before the level's update, in both (the
--   service sends them without waiting in between, which postgres.js pipelines; here a pipeline).
--
-- Variables from the bench: lo, hi (the range of n), w1, w2 (warehouse ids, w1 has the stock),
-- code1 (w1's code), warehouses (the JSON array of both ids), hash, event, explanation, split,
-- actor (a variable: pgbench would take the colon in 'service:reservation' for one).

\set n random(:lo, :hi)
\set held 1
\set strategy 1
\set kind 5
\set zero 0
\set one 1
\set avail 999999999
\set priority 100

SELECT r.rid, r.request_id, r.audit_id, r.movement_id, r.occur, p.item_id, p.level_id,
  json_build_array(json_build_object('sku', p.sku, 'itemId', p.item_id, 'quantity', 1, 'lineIndex', 0))::text AS lines,
  coalesce(h.state, 0) AS replay
FROM (SELECT gen_random_uuid()::text AS rid, gen_random_uuid()::text AS request_id, gen_random_uuid() AS audit_id,
        encode(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid AS movement_id,
        clock_timestamp()::text AS occur) r
CROSS JOIN bench.picks p
LEFT JOIN "inventory"."holds" h ON h."reservation_id" = r.rid
WHERE p.n = :n \gset

select "id", "sku", "name", "description", "item_type_id", "unit_of_measure", "price_currency", "price_units", "price_nanos", "image_url", "attributes", "status", "default_reorder_point", "default_reorder_quantity", "created_by", "updated_by", "version", "created_at", "updated_at", "deleted_at" from "inventory"."items" where "inventory"."items"."id" in (:item_id);

select "id", "item_id", "sku", "warehouse_id", "location_id", "on_hand", "reserved", "reorder_point", "reorder_quantity", "sequence", "created_at", "updated_at" from "inventory"."stock_levels" where ("inventory"."stock_levels"."item_id" in (:item_id) and "inventory"."stock_levels"."warehouse_id" in (:w1, :w2));

begin;

insert into "inventory"."holds" ("reservation_id", "state", "payload_hash", "strategy", "allow_split", "warehouse_ids", "lines", "shortages", "release_reason", "commit_reference", "created_at", "updated_at") values (:rid, :held, :hash, :strategy, :split, :warehouses, :lines, default, default, default, default, default) on conflict do nothing returning "reservation_id", "state", "payload_hash", "strategy", "allow_split", "warehouse_ids", "lines", "shortages", "release_reason", "commit_reference", "created_at", "updated_at";

\startpipeline
insert into "inventory"."hold_allocations" ("reservation_id", "stock_level_id", "line_index", "item_id", "warehouse_id", "warehouse_code", "location_id", "quantity", "rank", "warehouse_priority", "available_before", "reason", "explanation") values (:rid, :level_id, :zero, :item_id, :w1, :code1, NULL, :one, :one, :priority, :avail, :one, :explanation);

insert into "inventory"."audit_outbox" ("id", "occur_time", "event", "attempts", "next_attempt_at") values (:audit_id, :occur, :event, default, 'infinity') on conflict ("id") do nothing;
\endpipeline

WITH lvl AS (
  UPDATE inventory.stock_levels l
  SET on_hand = l.on_hand + :zero::bigint, reserved = l.reserved + :one::bigint,
      sequence = l.sequence + 1, updated_at = now()
  WHERE l.id = :level_id AND
    l.reserved + :one::bigint >= 0
    AND l.on_hand + :zero::bigint >= l.reserved + :one::bigint
  RETURNING l.*),
mv AS (
  INSERT INTO inventory.movements
    (id, kind, stock_level_id, level_sequence, item_id, sku, warehouse_id, location_id, delta, reserved_delta,
     on_hand_before, on_hand_after, reserved_before, reserved_after, actor, reason, reference, reservation_id,
     related_movement_id, idempotency_key, request_id)
  SELECT :movement_id, :kind, lvl.id, lvl.sequence, lvl.item_id, lvl.sku, lvl.warehouse_id, lvl.location_id,
    :zero::bigint, :one::bigint, lvl.on_hand - :zero::bigint, lvl.on_hand,
    lvl.reserved - :one::bigint, lvl.reserved, :actor, 'hold', '', :rid,
    NULL, :rid, :request_id
  FROM lvl
  RETURNING *
)
SELECT row_to_json(lvl) AS level, row_to_json(mv) AS movement FROM lvl, mv;

commit;
