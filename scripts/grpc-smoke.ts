// One gRPC round trip against a running warehouse service, as grpcurl would make it:
// health, a reflection listing (neither needs credentials), and GetWarehouse with an access token.
// Usage: grpc-smoke.ts host:port warehouse-id access-token
import { GrpcChannel, createGrpcClient } from "@inv/platform";
import { ReflectionClient } from "@inv/platform/testing";
import { Health, HealthCheckResponse_ServingStatus } from "@inv/gen/grpc/health/v1/health_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";

const [address = "127.0.0.1:50051", id = "", token = ""] = process.argv.slice(2);
const channel = new GrpcChannel(`dns:///${address}`, { deadlineMs: 5_000 });
const reflection = new ReflectionClient(address);
try {
  const health = await createGrpcClient(Health, channel).check({ service: "warehouse.v1.WarehouseService" });
  console.log("health:", HealthCheckResponse_ServingStatus[health.status]);
  if (health.status !== HealthCheckResponse_ServingStatus.SERVING) process.exitCode = 1;

  const services = await reflection.listServices();
  console.log("reflection lists:", services.join(", "));
  if (!services.includes("warehouse.v1.WarehouseService")) process.exitCode = 1;

  const { warehouse } = await createGrpcClient(WarehouseService, channel).getWarehouse({ id }, { metadata: { authorization: `Bearer ${token}` } });
  console.log("GetWarehouse:", warehouse?.code, warehouse?.name);
  if (warehouse?.id !== id) process.exitCode = 1;
} finally {
  channel.close();
  reflection.close();
}
