import { status } from "@grpc/grpc-js";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcChannel } from "./client.js";
import { registration } from "./handler.js";
import { startGrpcServer, type RunningGrpcServer } from "./server.js";

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
        getWarehouse: async ({ id }, ctx) => {
          if (id !== "slow") return { warehouse: { id } };
          started(ctx.signal);
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          return { warehouse: { id } };
        },
      }),
    ],
  });
  channel = new GrpcChannel(`dns:///${server.address}`, { services: [WarehouseService] });
});
afterAll(async () => {
  channel?.close();
  await server?.shutdown(500);
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
