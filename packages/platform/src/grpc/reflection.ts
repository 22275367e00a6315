import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";
import type { PackageDefinition } from "@grpc/proto-loader";
import { file_grpc_health_v1_health } from "@inv/gen/grpc/health/v1/health_pb";
import { file_grpc_reflection_v1_reflection } from "@inv/gen/grpc/reflection/v1/reflection_pb";

/** Every file a set of files needs, dependencies first, each once. */
export function withDependencies(files: Iterable<DescFile>): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.proto.name)) return;
    seen.set(file.proto.name, file);
    file.dependencies.forEach(visit);
  };
  for (const file of files) visit(file);
  return [...seen.values()];
}

/**
 * Server reflection fed straight from the generated descriptors (and every file they import,
 * well-known types and options included), so grpcurl can list, describe and call every RPC.
 * @grpc/reflection reads `fileDescriptorProtos` from each entry of a proto-loader-shaped
 * package definition; we hand it the binary FileDescriptorProtos protobuf-es already holds.
 */
export function reflectionFor(services: readonly DescService[]): ReflectionService {
  const files = withDependencies([
    ...services.map((s) => s.file),
    file_grpc_health_v1_health,
    file_grpc_reflection_v1_reflection,
  ]);
  const fileDescriptorProtos = files.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  const definition = { files: { format: "Protocol Buffer 3 FileDescriptorProto", fileDescriptorProtos } };
  return new ReflectionService(definition as unknown as PackageDefinition);
}
