/** A stock floor's gRPC side: one unary method on a bare grpc-js server, nothing around it. */
import type { DescMethodUnary, MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { serviceDefinition } from "@inv/platform";

/**
 * Serves `method` with `handle` on 127.0.0.1:GRPC_PORT until SIGTERM. A handler that throws
 * answers INTERNAL with its message: a floor has no error mapping, and the bench counts it a failure.
 */
export function serveUnary<M extends DescMethodUnary>(method: M, handle: (request: MessageShape<M["input"]>) => Promise<MessageShape<M["output"]>>) {
  const server = new grpc.Server();
  server.addService(serviceDefinition(method.parent), {
    [method.localName]: (call: grpc.ServerUnaryCall<MessageShape<M["input"]>, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      handle(call.request).then(
        (response) => callback(null, response),
        (err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }),
      );
    },
  });
  server.bindAsync(`127.0.0.1:${process.env["GRPC_PORT"] || "0"}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
  });
  process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
}
