import { fromBinary } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** One file of a FileDescriptorSet: decoded for indexing, and its bytes exactly as buf wrote them. */
export interface DescriptorFile {
  readonly proto: FileDescriptorProto;
  readonly bytes: Uint8Array;
}

/**
 * Splits a binary FileDescriptorSet into its files without re-encoding them: re-encoding
 * through any runtime risks dropping what it does not know (custom options, source info),
 * and reflection clients must see what buf built.
 */
export function splitDescriptorSet(set: Uint8Array): DescriptorFile[] {
  const files: DescriptorFile[] = [];
  const reader = new BinaryReader(set);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    // FileDescriptorSet has one field: `repeated FileDescriptorProto file = 1`.
    if (fieldNo === 1 && wireType === WireType.LengthDelimited) {
      const bytes = reader.bytes();
      files.push({ proto: fromBinary(FileDescriptorProtoSchema, bytes), bytes });
    } else {
      reader.skip(wireType, fieldNo);
    }
  }
  return files;
}

/**
 * The files a server reflects (some roots and everything they import) and the names
 * reflection clients look them up by: fully-qualified symbols, and extensions by the
 * message they extend and their number.
 */
export class ReflectionCatalog {
  private readonly files = new Map<string, DescriptorFile>();
  /** Fully-qualified name -> the file that defines it. */
  private readonly symbols = new Map<string, string>();
  private readonly messages = new Set<string>();
  /** Extended message -> extension number -> the file that defines the extension. */
  private readonly extensions = new Map<string, Map<number, string>>();

  /** Throws when a root is not in the set: the set is older than the code that serves it. */
  constructor(set: readonly DescriptorFile[], roots: Iterable<string>) {
    const byName = new Map(set.map((f) => [f.proto.name, f]));
    const add = (name: string, importer?: string) => {
      if (this.files.has(name)) return;
      const file = byName.get(name);
      if (!file) throw new Error(`reflection: ${name}${importer ? ` (imported by ${importer})` : ""} is not in the descriptor set; run \`npm run generate\``);
      this.files.set(name, file);
      for (const dep of file.proto.dependency) add(dep, name);
    };
    for (const root of roots) add(root);
    // Index in set order, so every file is indexed even when roots share imports.
    for (const file of set) if (this.files.has(file.proto.name)) this.index(file.proto);
  }

  /** The file with that name, then every file it imports, transitively; undefined when unknown. */
  fileByName(name: string): Uint8Array[] | undefined {
    const ordered: DescriptorFile[] = [];
    const visit = (n: string) => {
      const file = this.files.get(n);
      if (!file || ordered.includes(file)) return;
      ordered.push(file);
      for (const dep of file.proto.dependency) visit(dep);
    };
    visit(name);
    return ordered.length ? ordered.map((f) => f.bytes) : undefined;
  }

  fileContainingSymbol(symbol: string): Uint8Array[] | undefined {
    const file = this.symbols.get(symbol);
    return file === undefined ? undefined : this.fileByName(file);
  }

  fileContainingExtension(extendee: string, number: number): Uint8Array[] | undefined {
    const file = this.extensions.get(extendee)?.get(number);
    return file === undefined ? undefined : this.fileByName(file);
  }

  /** The numbers of every known extension of a message; undefined when the message is unknown. */
  extensionNumbersOf(message: string): number[] | undefined {
    if (!this.messages.has(message)) return undefined;
    return [...(this.extensions.get(message)?.keys() ?? [])].sort((a, b) => a - b);
  }

  private index(file: FileDescriptorProto) {
    const put = (name: string) => {
      if (!this.symbols.has(name)) this.symbols.set(name, file.name);
    };
    const extension = (ext: FieldDescriptorProto, scope: string) => {
      put(scope + ext.name);
      // Descriptors name types fully-qualified with a leading dot.
      const extendee = ext.extendee.replace(/^\./, "");
      const numbers = this.extensions.get(extendee) ?? new Map<number, string>();
      if (!numbers.has(ext.number)) numbers.set(ext.number, file.name);
      this.extensions.set(extendee, numbers);
    };
    // Enum values are scoped beside their enum (C++ rules); the enum-qualified form is accepted too.
    const enumType = (e: EnumDescriptorProto, scope: string) => {
      put(scope + e.name);
      for (const v of e.value) {
        put(scope + v.name);
        put(`${scope}${e.name}.${v.name}`);
      }
    };
    const message = (m: DescriptorProto, scope: string) => {
      const name = scope + m.name;
      put(name);
      this.messages.add(name);
      for (const member of [...m.field, ...m.oneofDecl]) put(`${name}.${member.name}`);
      for (const nested of m.nestedType) message(nested, `${name}.`);
      for (const e of m.enumType) enumType(e, `${name}.`);
      for (const x of m.extension) extension(x, `${name}.`);
    };
    const scope = file.package ? `${file.package}.` : "";
    for (const m of file.messageType) message(m, scope);
    for (const e of file.enumType) enumType(e, scope);
    for (const x of file.extension) extension(x, scope);
    for (const service of file.service) {
      put(scope + service.name);
      for (const m of service.method) put(`${scope}${service.name}.${m.name}`);
    }
  }
}
