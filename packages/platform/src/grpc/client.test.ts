import { status } from "@grpc/grpc-js";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../errors.js";
import { GrpcChannel } from "./client.js";
import { registration } from "./handler.js";
import { startGrpcServer, type RunningGrpcServer } from "./server.js";

/** Calls seen per key, for the retry tests. */
const attempts = new Map<string, number>();
class Unavailable extends DomainError {
  readonly code = status.UNAVAILABLE;
}
let server: RunningGrpcServer;
let channel: GrpcChannel;
/** Resolves with the handler's signal once a "slow" call has started. */
let started: (signal: AbortSignal) => void;

beforeAll(async () => {
  server = await startGrpcServer({
    name: "test",
    host: "127.0.0.1",
    port: 0,
    log: pino({ level: "silent" }),
    services: [
      registration(WarehouseService, {
        // Fails with UNAVAILABLE as often as the id says ("flaky-2": twice), then answers.
        listWarehouses: async ({ code }) => {
          const [, times] = code.split("-");
          const seen = (attempts.get(code) ?? 0) + 1;
          attempts.set(code, seen);
          if (seen <= Number(times)) throw new Unavailable("try again");
          return { warehouses: [{ id: code }] };
        },
        createWarehouse: async ({ warehouse }) => {
          attempts.set(warehouse!.code, (attempts.get(warehouse!.code) ?? 0) + 1);
          throw new Unavailable("try again");
        },
        getWarehouse: async ({ id }, ctx) => {
          if (id !== "slow") return { warehouse: { id } };
          started(ctx.signal);
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          return { warehouse: { id } };
        },
      }),
    ],
  });
  channel = new GrpcChannel(`dns:///${server.address}`);
});
afterAll(async () => {
  channel?.close();
  await server?.shutdown(500);
});

describe("GrpcChannel retries", () => {
  it("retries an idempotent call on UNAVAILABLE, up to three attempts in all", async () => {
    expect((await channel.unary(WarehouseService.method.listWarehouses, { code: "flaky-2" })).warehouses).toHaveLength(1);
    expect(attempts.get("flaky-2")).toBe(3);
    const err = await channel.unary(WarehouseService.method.listWarehouses, { code: "flaky-3" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: status.UNAVAILABLE, message: "try again" });
    expect(attempts.get("flaky-3")).toBe(3);
  });

  it("never retries a call that is not idempotent (a create)", async () => {
    const err = await channel.unary(WarehouseService.method.createWarehouse, { warehouse: { code: "once" } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: status.UNAVAILABLE });
    expect(attempts.get("once")).toBe(1);
  });

  it("stops retrying at the call's deadline", async () => {
    const started = Date.now();
    const err = await channel.unary(WarehouseService.method.listWarehouses, { code: "flaky-9" }, { deadlineMs: 150 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: status.UNAVAILABLE });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(attempts.get("flaky-9")).toBeLessThanOrEqual(2);
  });
});

describe("GrpcChannel", () => {
  it("makes a unary call with metadata and a deadline", async () => {
    const res = await channel.unary(WarehouseService.method.getWarehouse, { id: "w1" }, { metadata: { "x-request-id": "r1" }, deadlineMs: 2_000 });
    expect(res.warehouse?.id).toBe("w1");
  });

  it("cancels a call through cancelWith, and the handler's signal sees it", async () => {
    const handlerSignal = new Promise<AbortSignal>((resolve) => {
      started = resolve;
    });
    let cancel: (() => void) | undefined;
    const call = channel.unary(
      WarehouseService.method.getWarehouse,
      { id: "slow" },
      {
        cancelWith: (c) => {
          cancel = c;
        },
      },
    );
    const signal = await handlerSignal;
    cancel!();
    await expect(call).rejects.toMatchObject({ code: status.CANCELLED });
    await expect.poll(() => signal.aborted).toBe(true);
  });

  it("cancels a call through an AbortSignal", async () => {
    const handlerSignal = new Promise<AbortSignal>((resolve) => {
      started = resolve;
    });
    const controller = new AbortController();
    const call = channel.unary(WarehouseService.method.getWarehouse, { id: "slow" }, { signal: controller.signal });
    const signal = await handlerSignal;
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: status.CANCELLED });
    await expect.poll(() => signal.aborted).toBe(true);
  });
});
