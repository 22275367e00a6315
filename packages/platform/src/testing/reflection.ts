import { create, createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "@inv/gen/grpc/reflection/v1/reflection_pb";
import { methodDefinition } from "../grpc/adapter.js";

/**
 * A server reflection client that works the way grpcurl does: list services, fetch the file
 * defining a symbol, then fetch every imported file by name until the registry is complete.
 */
export class ReflectionClient {
  private readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  async ask(request: ServerReflectionRequest["messageRequest"]): Promise<ServerReflectionResponse> {
    const def = methodDefinition(ServerReflection.method.serverReflectionInfo);
    return new Promise((resolve, reject) => {
      const call = this.client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, new grpc.Metadata(), {
        deadline: Date.now() + 10_000,
      });
      call.on("data", (res: ServerReflectionResponse) => {
        resolve(res);
        call.end();
      });
      call.on("error", reject);
      call.write(create(ServerReflectionRequestSchema, { messageRequest: request }));
    });
  }

  async listServices(): Promise<string[]> {
    const res = await this.ask({ case: "listServices", value: "" });
    if (res.messageResponse.case !== "listServicesResponse") throw new Error(`unexpected ${res.messageResponse.case}`);
    return res.messageResponse.value.service.map((s) => s.name);
  }

  async files(request: ServerReflectionRequest["messageRequest"]): Promise<FileDescriptorProto[]> {
    const res = await this.ask(request);
    if (res.messageResponse.case !== "fileDescriptorResponse") {
      const detail = res.messageResponse.case === "errorResponse" ? res.messageResponse.value.errorMessage : res.messageResponse.case;
      throw new Error(`reflection: ${detail}`);
    }
    return res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
  }

  /** The registry grpcurl would build for a symbol: its file and, transitively, every import. */
  async registryFor(symbol: string): Promise<FileRegistry> {
    const byName = new Map<string, FileDescriptorProto>();
    const add = (files: FileDescriptorProto[]) => files.forEach((f) => byName.set(f.name, f));
    const [root] = await this.files({ case: "fileContainingSymbol", value: symbol });
    if (!root) throw new Error(`reflection: no file for ${symbol}`);
    add([root]);
    for (let missing = missingImports(byName); missing.length; missing = missingImports(byName)) {
      for (const name of missing) add(await this.files({ case: "fileByFilename", value: name }));
    }
    // Files go into the registry after their imports (createFileRegistry's resolver form can
    // add a file before an import it shares with a sibling).
    const ordered: FileDescriptorProto[] = [];
    const visit = (name: string) => {
      const file = byName.get(name);
      if (!file || ordered.includes(file)) return;
      file.dependency.forEach(visit);
      ordered.push(file);
    };
    visit(root.name);
    return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  }

  close() {
    this.client.close();
  }
}

const missingImports = (files: Map<string, FileDescriptorProto>) =>
  [...new Set([...files.values()].flatMap((f) => f.dependency))].filter((d) => !files.has(d));
