import { create, createFileRegistry, fromBinary, type FileRegistry, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { ServerReflection, ServerReflectionRequestSchema, type ServerReflectionResponse } from "@inv/gen/grpc/reflection/v1/reflection_pb";
import { ServerReflection as ServerReflectionV1alpha } from "@inv/gen/grpc/reflection/v1alpha/reflection_pb";
import { methodDefinition, methodPath } from "../grpc/adapter.js";

export type ReflectionQuery = NonNullable<MessageInitShape<typeof ServerReflectionRequestSchema>["messageRequest"]>;

/**
 * A server reflection client that works the way grpcurl does: list services, fetch the file
 * defining a symbol, then fetch every imported file by name until the registry is complete.
 */
export class ReflectionClient {
  private readonly client: grpc.Client;
  private readonly path: string;

  /** v1alpha asks the older service, as older grpcurl versions do; its messages are v1's on the wire. */
  constructor(address: string, version: "v1" | "v1alpha" = "v1") {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
    this.path = methodPath((version === "v1" ? ServerReflection : ServerReflectionV1alpha).method.serverReflectionInfo);
  }

  /** Sends every query on one stream, then closes it; the responses come back in order. */
  async askAll(queries: readonly ReflectionQuery[]): Promise<ServerReflectionResponse[]> {
    const def = methodDefinition(ServerReflection.method.serverReflectionInfo);
    return new Promise((resolve, reject) => {
      const call = this.client.makeBidiStreamRequest(this.path, def.requestSerialize, def.responseDeserialize, new grpc.Metadata(), {
        deadline: Date.now() + 10_000,
      });
      const responses: ServerReflectionResponse[] = [];
      call.on("data", (res: ServerReflectionResponse) => responses.push(res));
      call.on("error", reject);
      call.on("end", () => resolve(responses));
      for (const query of queries) call.write(create(ServerReflectionRequestSchema, { messageRequest: query }));
      call.end();
    });
  }

  async ask(query: ReflectionQuery): Promise<ServerReflectionResponse> {
    const [res] = await this.askAll([query]);
    if (!res) throw new Error("reflection: the stream ended without a response");
    return res;
  }

  async listServices(): Promise<string[]> {
    const res = await this.ask({ case: "listServices", value: "" });
    if (res.messageResponse.case !== "listServicesResponse") throw new Error(`unexpected ${res.messageResponse.case}`);
    return res.messageResponse.value.service.map((s) => s.name);
  }

  /** The FileDescriptorProtos of a response as the server encoded them: the asked-for file first, then its imports. */
  async fileBytes(query: ReflectionQuery): Promise<Uint8Array[]> {
    const res = await this.ask(query);
    if (res.messageResponse.case !== "fileDescriptorResponse") {
      const detail = res.messageResponse.case === "errorResponse" ? res.messageResponse.value.errorMessage : res.messageResponse.case;
      throw new Error(`reflection: ${detail}`);
    }
    return res.messageResponse.value.fileDescriptorProto;
  }

  async files(query: ReflectionQuery): Promise<FileDescriptorProto[]> {
    return (await this.fileBytes(query)).map((b) => fromBinary(FileDescriptorProtoSchema, b));
  }

  /** The registry grpcurl would build for a symbol: its file and, transitively, every import. */
  async registryFor(symbol: string): Promise<FileRegistry> {
    const byName = new Map<string, FileDescriptorProto>();
    const add = (files: FileDescriptorProto[]) => {
      for (const f of files) byName.set(f.name, f);
    };
    const answer = await this.files({ case: "fileContainingSymbol", value: symbol });
    const root = answer[0];
    if (!root) throw new Error(`reflection: no file for ${symbol}`);
    add(answer);
    // Servers may leave out imports they sent earlier on the stream; ask for those by name.
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

const missingImports = (files: Map<string, FileDescriptorProto>) => [...new Set([...files.values()].flatMap((f) => f.dependency))].filter((d) => !files.has(d));
