import { fromBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { encodeBinary } from "../binary.js";

/** The gRPC path of a method: "/package.Service/Method". */
export const methodPath = (method: DescMethod) => `/${method.parent.typeName}/${method.name}`;

/** A grpc-js method definition for a protobuf-es method descriptor: binary (de)serializers. */
export function methodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  const serialize = (schema: DescMethod["input"]) => (msg: unknown) => encodeBinary(schema, msg as never);
  const deserialize = (schema: DescMethod["input"]) => (buf: Buffer) => fromBinary(schema, buf);
  return {
    path: methodPath(method),
    originalName: method.localName,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: serialize(method.input),
    requestDeserialize: deserialize(method.input),
    responseSerialize: serialize(method.output),
    responseDeserialize: deserialize(method.output),
  };
}

/**
 * What a server's deserializer hands on for bytes that are no valid request message. grpc-js
 * answers INTERNAL when a deserializer throws, but undecodable input is the caller's fault: the
 * server refuses it with INVALID_ARGUMENT before any handler sees it.
 */
export class UndecodableRequest {
  constructor(readonly reason: string) {}
}

function decodeOrMark(schema: DescMethod["input"]) {
  return (buf: Buffer): unknown => {
    try {
      return fromBinary(schema, buf);
    } catch (err) {
      return new UndecodableRequest(err instanceof Error ? err.message : String(err));
    }
  };
}

/**
 * A grpc-js ServiceDefinition built from a protobuf-es service descriptor, keyed by method local
 * name, for serving: requests that do not decode arrive as UndecodableRequest.
 */
export function serviceDefinition(service: DescService): ServiceDefinition {
  return Object.fromEntries(service.methods.map((m) => [m.localName, { ...methodDefinition(m), requestDeserialize: decodeOrMark(m.input) }]));
}
