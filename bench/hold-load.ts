/**
 * The hold bench's load process: CONCURRENCY callers of inventory.v1.HoldService/HoldStock for
 * SECONDS after WARMUP_SECONDS (runLoad), each call a new reservation (a fresh UUID) holding 1 of
 * one item across the given warehouses, then prints a CallLoopResult as JSON. It calls as the
 * reservation service does: a service token minted with SERVICE_SECRET, looked up for every call
 * (it is renewed in the background). A call that fails, or answers with a hold that is not HELD,
 * counts as a failure: a FAILED hold is a cheaper answer, not a hold.
 * Env: GRPC_TARGET, SERVICE_SECRET, CONCURRENCY, SECONDS, WARMUP_SECONDS, ITEMS_FILE (a JSON array
 * of item ids, one picked at random per call), WAREHOUSE_IDS (comma-separated, in priority order).
 * It calls through the platform's HTTP/2 transport directly (no GrpcChannel: no retries, and the
 * answer decoded here), the cheapest client the project has: a grpc-js client spent about as
 * much CPU per call as the service it called.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { create, fromBinary } from "@bufbuild/protobuf";
import { CallFailure, encodeBinary, Http2Transport, methodPath, ServiceIdentity } from "@inv/platform";
import { HoldService, HoldState, HoldStockRequestSchema, HoldStockResponseSchema } from "@inv/gen/inventory/v1/hold_pb";
import { runLoad } from "./call-loop.js";

const env = (name: string) => process.env[name] ?? "";
const path = methodPath(HoldService.method.holdStock);
const client = new Http2Transport(env("GRPC_TARGET"));
const identity = await ServiceIdentity.start("reservation", env("SERVICE_SECRET"), ["inventory"]);
const items = JSON.parse(readFileSync(env("ITEMS_FILE"), "utf8")) as string[];
const warehouseIds = env("WAREHOUSE_IDS").split(",");

const errors: string[] = [];
const call = async () => {
  const request = create(HoldStockRequestSchema, {
    reservationId: randomUUID(),
    lines: [{ itemId: items[Math.floor(Math.random() * items.length)]!, quantity: 1n }],
    warehouseIds,
  });
  try {
    const answer = await client.unary(path, encodeBinary(HoldStockRequestSchema, request), {
      metadata: { "x-service-token": identity.tokenFor("inventory") },
      deadline: Date.now() + 30_000,
    });
    const state = fromBinary(HoldStockResponseSchema, answer).hold?.state;
    if (state === HoldState.HELD) return true;
    if (errors.length < 5) errors.push(`hold state ${state}`);
  } catch (err) {
    if (errors.length < 5) errors.push(err instanceof CallFailure ? `code ${err.code}: ${err.message}` : String(err));
  }
  return false;
};

await runLoad(call, errors);
client.close();
identity.close();
