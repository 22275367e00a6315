import { status } from "@grpc/grpc-js";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { pino } from "pino";
import { expect, it } from "vitest";
import { GrpcChannel, createGrpcClient } from "./client.js";
import { registration } from "./handler.js";
import { startGrpcServer } from "./server.js";
import type { RemoteError } from "./status.js";

it("shutdown lets in-flight calls finish, then refuses new ones", async () => {
  const server = await startGrpcServer({
    name: "drain",
    host: "127.0.0.1",
    port: 0,
    log: pino({ level: "silent" }),
    services: [
      registration(WarehouseService, {
        getWarehouse: async ({ id }) => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          return { warehouse: { id } };
        },
      }),
    ],
  });
  const channel = new GrpcChannel(`dns:///${server.address}`, { deadlineMs: 5_000 });
  const client = createGrpcClient(WarehouseService, channel);

  await client.getWarehouse({ id: "warm-up" }); // the connection is up before the drain starts
  const inFlight = client.getWarehouse({ id: "slow" });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const stopped = server.shutdown(5_000);

  expect((await inFlight).warehouse?.id).toBe("slow");
  await stopped;
  const late = (await client.getWarehouse({ id: "late" }, { deadlineMs: 1_000 }).catch((e: unknown) => e)) as RemoteError;
  expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(late.code);
  channel.close();
});
