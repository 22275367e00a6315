import { fromBinary, type AnyDesc } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type DescriptorProto, type EnumDescriptorProto } from "@bufbuild/protobuf/wkt";

/**
 * Where descriptions come from. Generated protobuf-es descriptors drop source comments, so
 * the comments are looked up elsewhere (see commentsFromDescriptorSet).
 */
export type CommentSource = (desc: AnyDesc) => string | undefined;

export const noComments: CommentSource = () => undefined;

/** The fully-qualified name comments are keyed by; fields, methods and enum values hang off their parent. */
export function qualifiedName(desc: AnyDesc): string | undefined {
  switch (desc.kind) {
    case "message":
    case "enum":
    case "service":
    case "extension":
      return desc.typeName;
    case "field":
    case "oneof":
    case "rpc":
    case "enum_value":
      return `${desc.parent.typeName}.${desc.name}`;
    case "file":
      return undefined;
  }
}

/** Proto comments keep the space after "//" on every line; drop it and surrounding blank lines. */
function clean(comment: string): string | undefined {
  const lines = comment.split("\n").map((line) => line.replace(/^ /, "").trimEnd());
  const text = lines.join("\n").trim();
  return text === "" ? undefined : text;
}

// Field numbers in descriptor.proto that SourceCodeInfo location paths are made of.
const FILE_MESSAGE = 4,
  FILE_ENUM = 5,
  FILE_SERVICE = 6;
const MESSAGE_FIELD = 2,
  MESSAGE_NESTED = 3,
  MESSAGE_ENUM = 4,
  MESSAGE_ONEOF = 8;
const ENUM_VALUE = 2,
  SERVICE_METHOD = 2;

/**
 * Reads comments from a binary FileDescriptorSet that kept source info (`buf build -o x.binpb`,
 * or protoc --include_source_info), keyed by fully-qualified name. Leading comments win;
 * a trailing comment is used when there is no leading one.
 */
export function commentsFromDescriptorSet(bytes: Uint8Array): CommentSource {
  const set = fromBinary(FileDescriptorSetSchema, bytes);
  const comments = new Map<string, string>();
  for (const file of set.file) {
    const byPath = new Map<string, string>();
    for (const location of file.sourceCodeInfo?.location ?? []) {
      const text = clean(location.leadingComments ?? "") ?? clean(location.trailingComments ?? "");
      if (text !== undefined) byPath.set(location.path.join("."), text);
    }
    const put = (name: string, path: number[]) => {
      const text = byPath.get(path.join("."));
      if (text !== undefined) comments.set(name, text);
    };
    const visitEnum = (e: EnumDescriptorProto, name: string, path: number[]) => {
      put(name, path);
      e.value.forEach((v, i) => put(`${name}.${v.name}`, [...path, ENUM_VALUE, i]));
    };
    const visitMessage = (m: DescriptorProto, name: string, path: number[]) => {
      put(name, path);
      m.field.forEach((f, i) => put(`${name}.${f.name}`, [...path, MESSAGE_FIELD, i]));
      m.oneofDecl.forEach((o, i) => put(`${name}.${o.name}`, [...path, MESSAGE_ONEOF, i]));
      m.nestedType.forEach((n, i) => visitMessage(n, `${name}.${n.name}`, [...path, MESSAGE_NESTED, i]));
      m.enumType.forEach((e, i) => visitEnum(e, `${name}.${e.name}`, [...path, MESSAGE_ENUM, i]));
    };
    const prefix = file.package ? `${file.package}.` : "";
    file.messageType.forEach((m, i) => visitMessage(m, prefix + m.name, [FILE_MESSAGE, i]));
    file.enumType.forEach((e, i) => visitEnum(e, prefix + e.name, [FILE_ENUM, i]));
    file.service.forEach((s, i) => {
      put(prefix + s.name, [FILE_SERVICE, i]);
      s.method.forEach((m, j) => put(`${prefix}${s.name}.${m.name}`, [FILE_SERVICE, i, SERVICE_METHOD, j]));
    });
  }
  return (desc) => {
    const name = qualifiedName(desc);
    return name === undefined ? undefined : comments.get(name);
  };
}
