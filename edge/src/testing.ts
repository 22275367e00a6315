import { randomBytes } from "node:crypto";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { AccessTokenVerifier, type Logger } from "@inv/platform";
import { startTestService, type TestService } from "@inv/platform/testing";
import { nothingStored, warehouseDefinition } from "@inv/warehouse-service";
import { verifiedIdentity } from "./identity.js";
import { startEdge, type RunningEdge } from "./index.js";

export interface EdgeOverWarehouse {
  readonly warehouse: TestService;
  readonly edge: RunningEdge;
  stop(): Promise<void>;
}

/**
 * The edge's tests against a real service: a warehouse service on a scratch database, and an
 * edge in front of it that shares its service secret and checks access tokens against the keys
 * the service trusts (its TestAuthority).
 */
export async function startEdgeOverWarehouse(log: Logger): Promise<EdgeOverWarehouse> {
  const serviceSecret = randomBytes(32).toString("hex");
  const warehouse = await startTestService(warehouseDefinition({ stock: () => nothingStored }), { serviceSecret });
  const edge = await startEdge({
    port: 0,
    host: "127.0.0.1",
    services: [WarehouseService],
    targetOf: () => `dns:///${warehouse.address}`,
    log,
    corsOrigins: ["*"],
    upstreamDeadlineMs: 5_000,
    processOf: () => "warehouse",
    processNames: ["warehouse"],
    serviceSecret,
    identify: verifiedIdentity(new AccessTokenVerifier({ jwks: warehouse.authority.jwks })),
  });
  return {
    warehouse,
    edge,
    async stop() {
      await edge.stop();
      await warehouse.stop();
    },
  };
}
