import { type ClientHttp2Session, connect, constants } from "node:http2";

/** What a unary call answered: its grpc-status, grpc-message and response message bytes. */
export interface UnaryAnswer {
  readonly code: number;
  readonly message: string;
  readonly body: Buffer;
}

/**
 * gRPC unary calls over one plain HTTP/2 connection (node:http2, no grpc-js): the request is one
 * length-prefixed message, the answer's status comes from the trailers (or from the headers of a
 * trailers-only answer). A load generator for the stock benches that costs the machine they share
 * as little as it can: a grpc-js client spent about as much CPU per call as the service it called.
 * No retries, compression, deadlines or name resolution: a bench on loopback needs none of them.
 */
export class H2Unary {
  readonly #session: ClientHttp2Session;

  constructor(target: string) {
    this.#session = connect(`http://${target.replace(/^dns:\/\/\//, "")}`);
    this.#session.on("error", () => {});
  }

  call(path: string, request: Uint8Array, metadata: Readonly<Record<string, string>>): Promise<UnaryAnswer> {
    return new Promise((resolve) => {
      const stream = this.#session.request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: path,
        [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
        te: "trailers",
        ...metadata,
      });
      const chunks: Buffer[] = [];
      let status: { code: number; message: string } | undefined;
      // The first status seen wins: a trailers-only answer has it in its headers, any other in its trailers.
      const settle = (code: number, message: string) => {
        status ??= { code, message };
      };
      const statusFrom = (headers: Record<string, unknown>) => {
        if (headers["grpc-status"] !== undefined) settle(Number(headers["grpc-status"]), decodeURIComponent(String(headers["grpc-message"] ?? "")));
      };
      stream.on("response", statusFrom);
      stream.on("trailers", statusFrom);
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (err) => settle(14, err.message));
      stream.on("close", () => {
        const framed = Buffer.concat(chunks);
        resolve({
          code: status?.code ?? 2,
          message: status?.message ?? "no grpc-status",
          body: framed.subarray(5, 5 + (framed.length >= 5 ? framed.readUInt32BE(1) : 0)),
        });
      });
      const frame = Buffer.allocUnsafe(5 + request.length);
      frame.writeUInt8(0, 0);
      frame.writeUInt32BE(request.length, 1);
      frame.set(request, 5);
      stream.end(frame);
    });
  }

  close(): void {
    this.#session.close();
  }
}
