/**
 * The floor's HTTP server: bare node:http, one grpc-js unary call per request, the answer
 * rendered as proto JSON the way the edge renders it. What no REST-to-gRPC edge in Node can
 * beat on this machine; the edge is measured against it.
 * Env: HTTP_PORT, FLOOR_GRPC_TARGET.
 */
import { createServer } from "node:http";
import { create, toJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { methodDefinition } from "@inv/platform";
import { GetWarehouseRequestSchema, WarehouseSchema, WarehouseService, type GetWarehouseResponse } from "@inv/gen/warehouse/v1/warehouse_pb";

const PREFIX = "/v1/warehouses/";
const getWarehouse = methodDefinition(WarehouseService.method.getWarehouse);
const client = new grpc.Client(process.env["FLOOR_GRPC_TARGET"] ?? "", grpc.credentials.createInsecure());

const server = createServer((req, res) => {
  const id = req.url?.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : undefined;
  if (req.method !== "GET" || !id) return void res.writeHead(404).end();
  const request = create(GetWarehouseRequestSchema, { id });
  client.makeUnaryRequest(getWarehouse.path, getWarehouse.requestSerialize, getWarehouse.responseDeserialize, request, (err, response) => {
    if (err) return void res.writeHead(502).end(err.details);
    const warehouse = (response as GetWarehouseResponse).warehouse;
    const json = JSON.stringify(warehouse ? toJson(WarehouseSchema, warehouse, { alwaysEmitImplicit: true }) : {});
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
    res.end(json);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env["HTTP_PORT"] ?? 0), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  client.close();
});
