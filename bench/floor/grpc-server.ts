/**
 * The floor's gRPC server: a bare grpc-js server answering GetWarehouse from a Map. No database,
 * cache, interceptors, logging, health or reflection — only what any gRPC hop costs.
 * Env: GRPC_PORT, FLOOR_WAREHOUSE (the warehouse as proto JSON, as the edge returned it).
 */
import { create, fromJsonString } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { serviceDefinition } from "@inv/platform";
import { GetWarehouseResponseSchema, WarehouseSchema, WarehouseService, type GetWarehouseRequest, type Warehouse } from "@inv/gen/warehouse/v1/warehouse_pb";

const warehouse = fromJsonString(WarehouseSchema, process.env["FLOOR_WAREHOUSE"] ?? "{}");
const warehouses = new Map<string, Warehouse>([[warehouse.id, warehouse]]);

const server = new grpc.Server();
server.addService(serviceDefinition(WarehouseService), {
  getWarehouse(call: grpc.ServerUnaryCall<GetWarehouseRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
    const found = warehouses.get(call.request.id);
    if (!found) return callback({ code: grpc.status.NOT_FOUND, details: `warehouse ${call.request.id} not found` });
    callback(null, create(GetWarehouseResponseSchema, { warehouse: found }));
  },
});
server.bindAsync(`127.0.0.1:${process.env["GRPC_PORT"] ?? "0"}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
});
process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
