/**
 * The hold bench's floor: a bare grpc-js server answering inventory.v1.HoldService/HoldStock
 * with the two statements pgbench runs for a hold (bench/holds.pgbench.sql, read from that file),
 * batched as the service batches them, and nothing else: no token check, no validation, no
 * planning beyond "the first warehouse given that has the stock", no cache, no audit relay. So its
 * rate is what the service's architecture allows on this machine (a gRPC hop into a Node process,
 * postgres.js, the hold's SQL, the service's batching), and the service's distance to it is what
 * the service itself adds.
 *
 * Batching: the reads and the takes go through the platform's batchLanes with the service's
 * settings (two lanes each, at most 32 holds a statement). A batch of reads is the script's read
 * with the batch's lists (they are JSON arrays), split per hold; a lone take is the script's take,
 * and a batch of takes is the same rows for many holds (takeMany).
 *
 * Env: GRPC_PORT, DATABASE_URL (the bench's scratch database), FLOOR_CODE (the first
 * warehouse's code), FLOOR_EVENT (an audit event's size of base64, as pgbench's -D event).
 * Its outbox rows are pgbench's: next_attempt_at 'infinity', so the service's relay never takes
 * them, and the bench deletes them after each run.
 *
 * FLOOR_AUDIT=1 adds the audit trail the platform requires of every change: each hold's outbox
 * row is a real record, due at once, and the floor runs the platform's own relay
 * (startAuditRelay, woken by its writes as the service's is), which ships the records to the
 * user service (FLOOR_USER_TARGET, with a service token from SERVICE_SECRET) and deletes them.
 * That floor is what any implementation that keeps the trail can reach.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AllocationReason, AllocationStrategy } from "@inv/gen/common/v1/allocation_pb";
import { HoldService, HoldState, HoldStockResponseSchema, type HoldStockRequest } from "@inv/gen/inventory/v1/hold_pb";
import postgres from "postgres";
import {
  auditOutboxTable,
  batchLanes,
  createLogger,
  type Db,
  encodeAuditEvent,
  encodeBinary,
  Http2Transport,
  methodPath,
  ServiceIdentity,
  startAuditRelay,
} from "@inv/platform";
import { pgSchema } from "drizzle-orm/pg-core";
import { drizzle } from "drizzle-orm/postgres-js";
import { AuditEventSchema, AuditOutcome, AuditRecordService, PrincipalKind, RecordAuditEventsRequestSchema } from "@inv/gen/user/v1/audit_pb";
import { uuidv7 } from "uuidv7";
import { scriptStatements, statementRunner, type Statement } from "./script.js";
import { serveUnary } from "./serve.js";

const env = (name: string) => process.env[name] ?? "";

const script = scriptStatements("holds.pgbench.sql");
if (script.length !== 2) throw new Error(`bench/holds.pgbench.sql: expected the planning read and the take after its first statement, found ${script.length}`);
const [read, take] = script as [Statement, Statement];
const run = statementRunner(postgres(env("DATABASE_URL"), { max: 10, onnotice: () => {} }));

const code = env("FLOOR_CODE");
const event = env("FLOOR_EVENT");

interface Planning {
  held: string[];
  items: { id: string; sku: string }[];
  levels: { id: string; item_id: string; warehouse_id: string; available: number }[];
}

/** One hold's read: what it names. */
interface ReadQuery {
  rid: string;
  itemId: string;
  warehouses: string[];
}

const unique = (values: string[]) => [...new Set(values)];

/** The script's read for many holds at once (its lists are JSON arrays), split per hold. */
const reads = batchLanes(async (qs: ReadQuery[]) => {
  const [p] = await run<Planning>(read, {
    item_ids: unique(qs.map((q) => q.itemId)),
    rids: qs.map((q) => q.rid),
    warehouses: unique(qs.flatMap((q) => q.warehouses)),
  });
  return qs.map((q) => ({
    items: p!.items.filter((i) => i.id === q.itemId),
    levels: p!.levels.filter((l) => l.item_id === q.itemId && q.warehouses.includes(l.warehouse_id)),
  }));
});

/** The script's take for many holds: their outbox rows (as pgbench writes them) and one take_holds. */
const takeMany: Statement = {
  query: `WITH audit AS (
    INSERT INTO inventory.audit_outbox (id, occur_time, event, next_attempt_at)
    SELECT a.id, a.occur_time, a.event, 'infinity' FROM jsonb_to_recordset($1::jsonb) AS a(id uuid, occur_time timestamptz, event text)
    ON CONFLICT (id) DO NOTHING)
  SELECT t.nth, t.outcome FROM inventory.take_holds($2::jsonb) t ORDER BY t.nth`,
  names: ["audits", "takes"],
};

interface Take {
  take: unknown;
  audit: { id: string; occur_time: string; event: string };
}

// FLOOR_AUDIT=1: real audit records, due at once, shipped by the floor's own relay (below).
const AUDIT = process.env["FLOOR_AUDIT"] === "1";
const due = (q: Statement): Statement => (AUDIT ? { ...q, query: q.query.replace("'infinity'", "now()") } : q);
const takeOne = due(take);
const takeBatch = due(takeMany);
const auditEvent = (id: string, rid: string, requestId: string, now: Date) =>
  AUDIT
    ? encodeAuditEvent(
        create(AuditEventSchema, {
          id,
          occurTime: timestampFromDate(now),
          requestId,
          actorKind: PrincipalKind.SERVICE,
          actorId: "reservation",
          actorName: "reservation",
          service: "inventory",
          method: "/inventory.v1.HoldService/HoldStock",
          permission: "",
          resourceType: "Hold",
          resourceId: rid,
          outcome: AuditOutcome.SUCCESS,
          statusCode: "OK",
          clientIp: "127.0.0.1",
          details: { state: "HELD", allocations: 1 },
        }),
      )
    : event;

/** With FLOOR_AUDIT=1, the floor ships its own records as the service does: a relay woken by its writes. */
const relay = AUDIT ? await floorRelay() : undefined;

async function floorRelay() {
  const identity = await ServiceIdentity.start("inventory", env("SERVICE_SECRET"), ["user"]);
  const user = new Http2Transport(env("FLOOR_USER_TARGET"));
  const path = methodPath(AuditRecordService.method.recordAuditEvents);
  return startAuditRelay({
    db: drizzle(postgres(env("DATABASE_URL"), { max: 2, onnotice: () => {} })) as unknown as Db,
    table: auditOutboxTable(pgSchema("inventory")),
    log: createLogger("floor-relay", "warn"),
    send: async (auditEvents) => {
      const request = create(RecordAuditEventsRequestSchema, { auditEvents });
      await user.unary(path, encodeBinary(RecordAuditEventsRequestSchema, request), {
        metadata: { "x-service-token": identity.tokenFor("user") },
        deadline: Date.now() + 30_000,
      });
    },
  });
}

const takes = batchLanes(async (batch: Take[]) => {
  if (batch.length === 1) {
    const { take: one, audit } = batch[0]!;
    return (await run<{ outcome: string }>(takeOne, { audit_id: audit.id, occur: audit.occur_time, event: audit.event, takes: [one] })).map((r) => r.outcome);
  }
  const found = await run<{ outcome: string }>(takeBatch, { audits: batch.map((t) => t.audit), takes: batch.map((t) => t.take) });
  return found.map((r) => r.outcome);
});

async function holdStock(req: HoldStockRequest) {
  const line = req.lines[0]!;
  const rid = req.reservationId;
  const planning = await reads.submit({ rid, itemId: line.itemId, warehouses: req.warehouseIds });
  const item = planning.items[0];
  const level = req.warehouseIds
    .map((w) => planning.levels.find((l) => l.warehouse_id === w && BigInt(l.available) >= line.quantity))
    .find((l) => l !== undefined);
  if (!item || !level) throw new Error(`no stock for item ${line.itemId}`);
  const requestId = randomUUID();
  const movementId = uuidv7();
  const hold = {
    hold: {
      reservation_id: rid,
      state: HoldState.HELD,
      payload_hash: "",
      strategy: AllocationStrategy.PRIORITY,
      allow_split: false,
      warehouse_ids: req.warehouseIds,
      lines: [{ lineIndex: 0, itemId: item.id, sku: item.sku, quantity: Number(line.quantity) }],
      shortages: [],
    },
    allocations: [
      {
        reservation_id: rid,
        stock_level_id: level.id,
        line_index: 0,
        item_id: item.id,
        warehouse_id: level.warehouse_id,
        warehouse_code: code,
        location_id: null,
        quantity: Number(line.quantity),
        rank: 1,
        warehouse_priority: 100,
        available_before: level.available,
        reason: AllocationReason.PRIORITY,
        explanation: `${line.quantity} of ${line.quantity} from ${code}`,
        movement_id: movementId,
      },
    ],
    actor: "service:reservation",
    request_id: requestId,
  };
  const now = new Date();
  const auditId = randomUUID();
  const outcome = await takes.submit({ take: hold, audit: { id: auditId, occur_time: now.toISOString(), event: auditEvent(auditId, rid, requestId, now) } });
  // take_holds answers "held" or "stale" for a hold it did not take; the outcome of one it took is its time.
  if (outcome === "held" || outcome === "stale") throw new Error(`the hold was not taken: ${outcome}`);
  relay?.wake();
  return create(HoldStockResponseSchema, {
    hold: {
      reservationId: rid,
      state: HoldState.HELD,
      strategy: AllocationStrategy.PRIORITY,
      warehouseIds: req.warehouseIds,
      lines: [
        {
          lineIndex: 0,
          itemId: item.id,
          sku: item.sku,
          quantity: line.quantity,
          allocations: [
            {
              warehouseId: level.warehouse_id,
              warehouseCode: code,
              stockLevelId: level.id,
              quantity: line.quantity,
              rank: 1,
              warehousePriority: 100,
              availableBefore: BigInt(level.available),
              reason: AllocationReason.PRIORITY,
              explanation: hold.allocations[0]!.explanation,
            },
          ],
        },
      ],
      createTime: timestampFromDate(now),
      updateTime: timestampFromDate(now),
    },
  });
}

serveUnary(HoldService.method.holdStock, holdStock);
