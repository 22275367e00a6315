import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { file_google_rpc_code } from "@inv/gen/google/rpc/code_pb";
import { file_google_rpc_error_details } from "@inv/gen/google/rpc/error_details_pb";
import { file_google_rpc_status } from "@inv/gen/google/rpc/status_pb";
import { Health, file_grpc_health_v1_health } from "@inv/gen/grpc/health/v1/health_pb";
import {
  ServerReflection,
  ServerReflectionResponseSchema,
  file_grpc_reflection_v1_reflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "@inv/gen/grpc/reflection/v1/reflection_pb";
import { ServerReflection as ServerReflectionV1alpha, file_grpc_reflection_v1alpha_reflection } from "@inv/gen/grpc/reflection/v1alpha/reflection_pb";
import { methodDefinition, methodPath } from "./adapter.js";
import { ReflectionCatalog, splitDescriptorSet, type DescriptorFile } from "./reflection-catalog.js";

let builtSet: DescriptorFile[] | undefined;

/** The FileDescriptorSet `npm run generate` has buf write, with source comments and every import. */
export function generatedDescriptorSet(): DescriptorFile[] {
  builtSet ??= splitDescriptorSet(readFileSync(fileURLToPath(import.meta.resolve("@inv/gen/descriptors.binpb"))));
  return builtSet;
}

type ResponseCase = MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"];

const notFound = (what: string): ResponseCase => ({ case: "errorResponse", value: { errorCode: grpc.status.NOT_FOUND, errorMessage: `${what} not found` } });
const files = (found: Uint8Array[] | undefined, what: string): ResponseCase =>
  found ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: found } } : notFound(what);

/** The answer to one reflection request; unknown names get a NOT_FOUND error response, and the stream goes on. */
function respond(catalog: ReflectionCatalog, serviceNames: readonly string[], req: ServerReflectionRequest["messageRequest"]): ResponseCase {
  switch (req.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: serviceNames.map((name) => ({ name })) } };
    case "fileByFilename":
      return files(catalog.fileByName(req.value), `file ${req.value}`);
    case "fileContainingSymbol":
      return files(catalog.fileContainingSymbol(req.value), `symbol ${req.value}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = req.value;
      return files(catalog.fileContainingExtension(containingType, extensionNumber), `extension ${extensionNumber} of ${containingType}`);
    }
    case "allExtensionNumbersOfType": {
      const numbers = catalog.extensionNumbersOf(req.value);
      if (!numbers) return notFound(`message type ${req.value}`);
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: req.value, extensionNumber: numbers } };
    }
    default:
      return { case: "errorResponse", value: { errorCode: grpc.status.INVALID_ARGUMENT, errorMessage: "empty reflection request" } };
  }
}

export interface ReflectionServer {
  addToServer(server: grpc.Server): void;
}

/**
 * grpc.reflection.v1 ServerReflection (and v1alpha, wire-identical, which older clients ask
 * first) serving the FileDescriptorProtos exactly as buf built them: options and comments
 * intact. It reflects the given services, health, reflection itself, and the google.rpc
 * files that error details (grpc-status-details-bin) are made of, each with its imports,
 * so `grpcurl -format-error` can decode them although no service imports them.
 */
export function reflectionFor(services: readonly DescService[], set: readonly DescriptorFile[] = generatedDescriptorSet()): ReflectionServer {
  const roots = [
    ...services.map((s) => s.file.proto.name),
    file_grpc_health_v1_health.proto.name,
    file_grpc_reflection_v1_reflection.proto.name,
    file_grpc_reflection_v1alpha_reflection.proto.name,
    file_google_rpc_status.proto.name,
    file_google_rpc_code.proto.name,
    file_google_rpc_error_details.proto.name,
  ];
  const catalog = new ReflectionCatalog(set, roots);
  const serviceNames = [...new Set([...services.map((s) => s.typeName), Health.typeName, ServerReflection.typeName, ServerReflectionV1alpha.typeName])];

  // Many requests may arrive on one stream; each gets its response in order.
  const serve: grpc.handleBidiStreamingCall<ServerReflectionRequest, ServerReflectionResponse> = (call) => {
    call.on("data", (request: ServerReflectionRequest) => {
      const messageResponse = respond(catalog, serviceNames, request.messageRequest);
      call.write(create(ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse }));
    });
    call.on("end", () => call.end());
  };
  const v1 = methodDefinition(ServerReflection.method.serverReflectionInfo);
  // v1alpha messages have the same fields and numbers as v1, so v1's (de)serializers fit.
  const v1alpha = { ...v1, path: methodPath(ServerReflectionV1alpha.method.serverReflectionInfo) };
  return {
    addToServer(server) {
      for (const definition of [v1, v1alpha]) server.addService({ serverReflectionInfo: definition }, { serverReflectionInfo: serve });
    },
  };
}
