/**
 * The reservation bench's floor, first hop: bare node:http taking POST /v1/reservations, the body
 * read as a reservation.v1.ReserveRequest in proto JSON, one gRPC call to the reservation floor
 * (reservation-server.ts) through the platform's HTTP/2 transport, the answer rendered as proto
 * JSON the way the edge renders it. No token check, rate limit, routing table or error mapping.
 * Env: HTTP_PORT, FLOOR_GRPC_TARGET.
 */
import { createServer } from "node:http";
import { fromBinary, fromJsonString, toJson } from "@bufbuild/protobuf";
import { CallFailure, encodeBinary, Http2Transport, methodPath } from "@inv/platform";
import { ReservationService, ReserveRequestSchema, ReserveResponseSchema } from "@inv/gen/reservation/v1/reservation_pb";

const reservePath = methodPath(ReservationService.method.reserve);
const upstream = new Http2Transport(process.env["FLOOR_GRPC_TARGET"] ?? "");

const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/v1/reservations") return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const request = fromJsonString(ReserveRequestSchema, Buffer.concat(chunks).toString("utf8"));
    upstream.unary(reservePath, encodeBinary(ReserveRequestSchema, request), { metadata: {}, deadline: Date.now() + 30_000 }).then(
      (answer) => {
        const json = JSON.stringify(toJson(ReserveResponseSchema, fromBinary(ReserveResponseSchema, answer), { alwaysEmitImplicit: true }));
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
        res.end(json);
      },
      (err: unknown) => void res.writeHead(502).end(err instanceof CallFailure ? err.message : String(err)),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env["HTTP_PORT"] ?? 0), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  upstream.close();
});
