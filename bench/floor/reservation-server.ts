/**
 * The reservation bench's floor, middle hop: a bare grpc-js server answering
 * reservation.v1.ReservationService/Reserve with what pgbench runs for a reservation on the
 * reservation service's side (bench/reservations.pgbench.sql, read from that file): the
 * reservation recorded PENDING with its outbox row, the hold asked of the hold floor
 * (hold-server.ts) over gRPC, the reservation recorded ACTIVE. Nothing else: no token check,
 * validation, idempotency, deadline handling, recovery or audit relay.
 *
 * Env: GRPC_PORT, DATABASE_URL (the bench's scratch database), FLOOR_HOLD_TARGET (the hold
 * floor), FLOOR_EVENT (an audit event's size of base64). Its outbox rows are pgbench's
 * (next_attempt_at 'infinity'); the bench deletes them after each run.
 */
import { randomUUID } from "node:crypto";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { encodeBinary, Http2Transport, methodPath } from "@inv/platform";
import { AllocationStrategy } from "@inv/gen/common/v1/allocation_pb";
import { HoldService, HoldState, HoldStockRequestSchema, HoldStockResponseSchema } from "@inv/gen/inventory/v1/hold_pb";
import { ReservationService, ReservationStatus, ReserveResponseSchema, type ReserveRequest } from "@inv/gen/reservation/v1/reservation_pb";
import { linesFromHold } from "@inv/reservation-service/mapping";
import postgres from "postgres";
import { scriptStatements, statementRunner, type Statement } from "./script.js";
import { serveUnary } from "./serve.js";

const env = (name: string) => process.env[name] ?? "";

// The script after its first statement: the reservation made, the hold's read and take (the hold
// floor runs those), the reservation recorded ACTIVE.
const script = scriptStatements("reservations.pgbench.sql");
if (script.length !== 4) throw new Error(`bench/reservations.pgbench.sql: expected four statements after its first, found ${script.length}`);
const [made, , , activated] = script as [Statement, Statement, Statement, Statement];
const run = statementRunner(postgres(env("DATABASE_URL"), { max: 10, onnotice: () => {} }));
const holds = new Http2Transport(env("FLOOR_HOLD_TARGET"));
const holdStockPath = methodPath(HoldService.method.holdStock);
const event = env("FLOOR_EVENT");
const ACTOR = "user:bench";

async function reserve(req: ReserveRequest) {
  const line = req.lines[0]!;
  const rid = randomUUID();
  const pendingLines = [{ lineIndex: 0, itemId: line.itemId, sku: "", quantity: Number(line.quantity), allocations: [], explanation: "" }];
  const [recorded] = await run<{ created_at: string }>(made, {
    rid,
    order_id: req.orderId,
    pending_lines: pendingLines,
    warehouses: req.warehouseIds,
    hash: "",
    actor: ACTOR,
    audit_id: randomUUID(),
    occur: new Date().toISOString(),
    event,
  });
  if (!recorded) throw new Error(`order ${req.orderId} has a reservation already`);

  const request = create(HoldStockRequestSchema, {
    reservationId: rid,
    lines: [{ itemId: line.itemId, quantity: line.quantity }],
    warehouseIds: req.warehouseIds,
  });
  const answer = await holds.unary(holdStockPath, encodeBinary(HoldStockRequestSchema, request), { metadata: {}, deadline: Date.now() + 10_000 });
  const hold = fromBinary(HoldStockResponseSchema, answer).hold;
  if (hold?.state !== HoldState.HELD) throw new Error(`the hold of ${rid} is not HELD`);
  // The lines as the reservation service stores them (the same function makes them), and as it answers them.
  const stored = linesFromHold(pendingLines, hold, false);
  const lines = stored.map((l) => ({
    ...l,
    quantity: BigInt(l.quantity),
    allocations: hold.lines.find((h) => h.lineIndex === l.lineIndex)?.allocations ?? [],
  }));
  const [row] = await run<{ id: string; created_at: Date; updated_at: Date; expire_at: Date }>(activated, { held_lines: stored, rid });
  if (!row) throw new Error(`reservation ${rid} was not PENDING`);
  return create(ReserveResponseSchema, {
    reservation: {
      id: row.id,
      orderId: req.orderId,
      customerId: req.customerId,
      status: ReservationStatus.ACTIVE,
      lines,
      strategy: AllocationStrategy.PRIORITY,
      warehouseIds: req.warehouseIds,
      expireTime: timestampFromDate(row.expire_at),
      createdBy: ACTOR,
      createTime: timestampFromDate(row.created_at),
      updateTime: timestampFromDate(row.updated_at),
    },
  });
}

serveUnary(ReservationService.method.reserve, reserve);
