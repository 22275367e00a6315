// Exits 0 when the gRPC server at host:port answers grpc.health.v1 Check with SERVING.
// Used as the container health check (compose, ECS), where no grpc_health_probe binary exists.
import { GrpcChannel, createGrpcClient } from "@inv/platform";
import { Health, HealthCheckResponse_ServingStatus } from "@inv/gen/grpc/health/v1/health_pb";

const [address = "127.0.0.1:50051", service = ""] = process.argv.slice(2);
const channel = new GrpcChannel(`dns:///${address}`, { deadlineMs: 2_000 });
try {
  const { status } = await createGrpcClient(Health, channel).check({ service });
  console.log(HealthCheckResponse_ServingStatus[status]);
  process.exitCode = status === HealthCheckResponse_ServingStatus.SERVING ? 0 : 1;
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  channel.close();
}
