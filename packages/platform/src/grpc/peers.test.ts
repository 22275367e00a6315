import { randomBytes } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { StorageUsageService } from "@inv/gen/inventory/v1/storage_usage_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { grpcTargetVariable, processes } from "@inv/service-catalog";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Caller } from "../auth/principal.js";
import { ConfigError } from "../config.js";
import { loadStandaloneSettings, type ServiceDefinitionOptions } from "../runtime.js";
import { startTestService, type TestService } from "../testing/index.js";
import { GrpcChannel } from "./client.js";
import { registration } from "./handler.js";
import { PeerChannels, type PeerTargets } from "./peers.js";

describe("PeerChannels", () => {
  it("makes a channel on first use, from the target known then, and the same one after", () => {
    const targets: PeerTargets = {};
    const peers = new PeerChannels("warehouse", targets);
    expect(() => peers.get("inventory")).toThrow("INVENTORY_GRPC_TARGET");
    targets.inventory = "dns:///127.0.0.1:1";
    const channel = peers.get("inventory");
    expect(channel).toBeInstanceOf(GrpcChannel);
    expect(peers.get("inventory")).toBe(channel);
    peers.close();
  });

  it("never calls itself, closes every channel it made, and makes none once closed", () => {
    const peers = new PeerChannels("warehouse", { warehouse: "dns:///127.0.0.1:1", user: "dns:///127.0.0.1:2" });
    expect(() => peers.get("warehouse")).toThrow("does not call itself");
    const close = vi.spyOn(peers.get("user"), "close");
    peers.close();
    expect(close).toHaveBeenCalledOnce();
    expect(() => peers.get("user")).toThrow("has stopped");
  });
});

describe("a service run on its own (runStandalone's settings)", () => {
  const secret = { SERVICE_SECRET: "s".repeat(32) };

  it("reads <NAME>_GRPC_TARGET of every other process of the catalog, by default its catalog port on this host", () => {
    const settings = loadStandaloneSettings("warehouse", 50051, secret);
    expect(settings.targets).toEqual(
      Object.fromEntries(processes.filter((p) => p.name !== "warehouse").map((p) => [p.name, `dns:///127.0.0.1:${p.grpcPort}`])),
    );
    expect(settings).toMatchObject({ port: 50051, host: "0.0.0.0", serviceSecret: secret.SERVICE_SECRET, logLevel: "info" });
  });

  it("takes the targets it is given, and ignores one naming itself", () => {
    const settings = loadStandaloneSettings("warehouse", 50051, {
      ...secret,
      [grpcTargetVariable("inventory")]: "dns:///inventory:50052",
      [grpcTargetVariable("warehouse")]: "dns:///elsewhere:1",
    });
    expect(settings.targets.inventory).toBe("dns:///inventory:50052");
    expect(settings.targets.warehouse).toBeUndefined();
  });

  it("refuses to start without SERVICE_SECRET, or with a bad port, naming the variable", () => {
    expect(() => loadStandaloneSettings("warehouse", 50051, {})).toThrow(ConfigError);
    expect(() => loadStandaloneSettings("warehouse", 50051, { ...secret, GRPC_PORT: "x" })).toThrow("GRPC_PORT");
  });
});

describe("two services that call each other through resources.peer", () => {
  const serviceSecret = randomBytes(32).toString("hex");
  const targets: PeerTargets = {};
  let seenByInventory: Caller | undefined;
  let warehouse: TestService;
  let inventory: TestService;

  // "warehouse" asks "inventory" as itself (its service identity), whatever its own caller holds.
  const warehouseDefinition: ServiceDefinitionOptions = {
    name: "warehouse",
    register: ({ peer, identity }) => [
      registration(WarehouseService, {
        getWarehouse: async ({ id }) => {
          const usage = await peer("inventory").unary(
            StorageUsageService.method.getStorageUsage,
            { warehouseId: id },
            { metadata: { "x-service-token": identity.tokenFor("inventory") } },
          );
          return { warehouse: { id, code: usage.empty ? "EMPTY" : "FULL", name: "W" } };
        },
      }),
    ],
  };
  const inventoryDefinition: ServiceDefinitionOptions = {
    name: "inventory",
    register: () => [
      registration(StorageUsageService, {
        getStorageUsage: async (_req, ctx) => {
          seenByInventory = ctx.caller;
          return { empty: true };
        },
      }),
    ],
  };

  beforeAll(async () => {
    warehouse = await startTestService(warehouseDefinition, { serviceSecret, targets });
    inventory = await startTestService(inventoryDefinition, { serviceSecret, targets });
    // Filled in after both started: the channels are made at the first call.
    Object.assign(targets, { warehouse: warehouse.target, inventory: inventory.target });
  });
  afterAll(async () => {
    await warehouse?.stop();
    await inventory?.stop();
  });

  it("reaches the other at its target, and is seen there as the service it is", async () => {
    const { warehouse: answer } = await warehouse.client(WarehouseService).getWarehouse({ id: "w1" });
    expect(answer?.code).toBe("EMPTY");
    expect(seenByInventory).toMatchObject({ viaService: "warehouse", principal: { kind: "service", subject: "service:warehouse" } });
  });

  it("a caller of the other service's internal method without a service identity is refused", async () => {
    await expect(inventory.client(StorageUsageService).getStorageUsage({ warehouseId: "w1" })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
