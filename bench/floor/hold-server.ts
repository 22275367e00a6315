/**
 * The hold bench's floor: a bare grpc-js server answering inventory.v1.HoldService/HoldStock
 * with the two statements pgbench runs for a hold (bench/holds.pgbench.sql, read from that file)
 * and nothing else: no token check, no validation, no planning beyond "the first warehouse given
 * that has the stock", no batching, no cache, no audit relay. So its rate is what the service's
 * architecture allows on this machine (a gRPC hop into a Node process, postgres.js, the hold's
 * SQL), and the service's distance to it is what the service itself adds.
 *
 * Env: GRPC_PORT, DATABASE_URL (the bench's scratch database), FLOOR_CODE (the first
 * warehouse's code), FLOOR_EVENT (an audit event's size of base64, as pgbench's -D event).
 * Its outbox rows are pgbench's: next_attempt_at 'infinity', so the service's relay never takes
 * them, and the bench deletes them after each run.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AllocationReason, AllocationStrategy } from "@inv/gen/common/v1/allocation_pb";
import { HoldService, HoldState, HoldStockResponseSchema, type HoldStockRequest } from "@inv/gen/inventory/v1/hold_pb";
import postgres from "postgres";
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

async function holdStock(req: HoldStockRequest) {
  const line = req.lines[0]!;
  const rid = req.reservationId;
  const [planning] = await run<Planning>(read, { item_ids: [line.itemId], rids: [rid], warehouses: req.warehouseIds });
  const item = planning!.items[0];
  const level = req.warehouseIds
    .map((w) => planning!.levels.find((l) => l.warehouse_id === w && BigInt(l.available) >= line.quantity))
    .find((l) => l !== undefined);
  if (!item || !level) throw new Error(`no stock for item ${line.itemId}`);
  const requestId = randomUUID();
  const movementId = uuidv7();
  const takes = [
    {
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
    },
  ];
  const now = new Date();
  const [taken] = await run<{ outcome: string }>(take, { audit_id: randomUUID(), occur: now.toISOString(), event, takes });
  // take_holds answers "held" or "stale" for a hold it did not take; the outcome of one it took is its time.
  if (!taken || taken.outcome === "held" || taken.outcome === "stale") throw new Error(`the hold was not taken: ${taken?.outcome}`);
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
              explanation: takes[0]!.allocations[0]!.explanation,
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
