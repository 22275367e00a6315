import { status } from "@grpc/grpc-js";
import type { AllocationStrategy } from "@inv/gen/common/v1/allocation_pb";
import { HoldService, type Hold } from "@inv/gen/inventory/v1/hold_pb";
import { RemoteError, Unavailable, type ServiceResources } from "@inv/platform";

/** What a hold is asked for: one reservation's lines, in the warehouses' priority order. */
export interface HoldRequest {
  reservationId: string;
  lines: { itemId?: string; sku?: string; quantity: number }[];
  warehouseIds: string[];
  strategy: AllocationStrategy;
  allowSplit: boolean;
}

/**
 * The reservation service's side of inventory's HoldService: every call idempotent by
 * reservation id, made as this service (its service identity), with a deadline. When inventory
 * cannot be reached in time the call throws UNAVAILABLE (reason INVENTORY_UNAVAILABLE); its other
 * refusals come through as RemoteErrors with inventory's code and reason.
 */
export interface StockHolds {
  hold(req: HoldRequest): Promise<Hold>;
  release(reservationId: string, reason: string): Promise<Hold>;
  commit(reservationId: string, reference: string): Promise<Hold>;
  restock(reservationId: string, reason: string): Promise<Hold>;
  /** The hold of a reservation, or undefined when inventory has none. */
  get(reservationId: string): Promise<Hold | undefined>;
}

export function grpcStockHolds(resources: ServiceResources, deadlineMs: number): StockHolds {
  const call = async <T>(send: (metadata: Record<string, string>) => Promise<T>): Promise<T> => {
    try {
      return await send({ "x-service-token": resources.identity.tokenFor("inventory") });
    } catch (err) {
      throw unreachable(err) ? new Unavailable("inventory could not be reached; nothing is held: retry", undefined, "INVENTORY_UNAVAILABLE") : err;
    }
  };
  const channel = () => resources.peer("inventory");
  const opts = (metadata: Record<string, string>) => ({ metadata, deadlineMs });
  const held = (r: { hold?: Hold | undefined }) => {
    if (!r.hold) throw new Error("inventory answered without a hold");
    return r.hold;
  };
  return {
    hold: (req) =>
      call(async (m) =>
        held(await channel().unary(HoldService.method.holdStock, { ...req, lines: req.lines.map((l) => ({ ...l, quantity: BigInt(l.quantity) })) }, opts(m))),
      ),
    release: (reservationId, reason) => call(async (m) => held(await channel().unary(HoldService.method.releaseHold, { reservationId, reason }, opts(m)))),
    commit: (reservationId, reference) => call(async (m) => held(await channel().unary(HoldService.method.commitHold, { reservationId, reference }, opts(m)))),
    restock: (reservationId, reason) => call(async (m) => held(await channel().unary(HoldService.method.restockHold, { reservationId, reason }, opts(m)))),
    get: (reservationId) =>
      call(async (m) => {
        try {
          return held(await channel().unary(HoldService.method.getHold, { reservationId }, opts(m)));
        } catch (err) {
          if (err instanceof RemoteError && err.code === status.NOT_FOUND) return undefined;
          throw err;
        }
      }),
  };
}

/** Whether a call failed because inventory was not there to answer (as opposed to a refusal). */
export const unreachable = (err: unknown) =>
  err instanceof RemoteError && (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED || err.code === status.CANCELLED);
