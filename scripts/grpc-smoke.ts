// One gRPC round trip against a running warehouse service, as grpcurl would make it:
// health, a reflection listing, and GetWarehouse. Usage: grpc-smoke.ts host:port warehouse-id
import { GrpcChannel, createGrpcClient } from "@inv/platform";
import { Health } from "@inv/gen/grpc/health/v1/health_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { ServerReflection } from "@inv/gen/grpc/reflection/v1/reflection_pb";
import * as grpc from "@grpc/grpc-js";
import { methodDefinition } from "@inv/platform";
import { create } from "@bufbuild/protobuf";
import { ServerReflectionRequestSchema } from "@inv/gen/grpc/reflection/v1/reflection_pb";

const [address = "127.0.0.1:50051", id = ""] = process.argv.slice(2);
const channel = new GrpcChannel(`dns:///${address}`, { deadlineMs: 5_000 });

const health = await createGrpcClient(Health, channel).check({ service: "warehouse.v1.WarehouseService" });
console.log("health:", health.status === 1 ? "SERVING" : health.status);
if (health.status !== 1) process.exit(1);

// Reflection is a bidi stream; ask for the service list once.
const def = methodDefinition(ServerReflection.method.serverReflectionInfo);
const client = new grpc.Client(address, grpc.credentials.createInsecure());
const services = await new Promise<string[]>((resolve, reject) => {
  const call = client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize);
  call.on("data", (res: { messageResponse: { case: string; value: { service: { name: string }[] } } }) => {
    resolve(res.messageResponse.value.service.map((s) => s.name));
    call.end();
  });
  call.on("error", reject);
  call.write(create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }));
});
console.log("reflection lists:", services.join(", "));
if (!services.includes("warehouse.v1.WarehouseService")) process.exit(1);

const { warehouse } = await createGrpcClient(WarehouseService, channel).getWarehouse({ id });
console.log("GetWarehouse:", warehouse?.code, warehouse?.name);
channel.close();
client.close();
if (warehouse?.id !== id) process.exit(1);
