import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { hasCustomJsonRepresentation } from "@bufbuild/protobuf/wkt";

/** The field a JSON key or rule names: its proto name or its JSON name, as protobuf-es accepts. */
export function findField(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name || f.jsonName === name);
}

/** A message that JSON encodes as an object of its fields (not Timestamp, wrappers, Struct, ...). */
export function isPlainMessage(message: DescMessage): boolean {
  return !hasCustomJsonRepresentation(message);
}

/**
 * Resolves a dotted field path such as "location.warehouse_id" to its chain of fields.
 * Every field before the last must be a singular plain message. Returns undefined when
 * the path does not exist.
 */
export function resolveFieldPath(root: DescMessage, path: string): DescField[] | undefined {
  const chain: DescField[] = [];
  let message: DescMessage | undefined = root;
  for (const name of path.split(".")) {
    if (message === undefined) return undefined;
    const field = findField(message, name);
    if (field === undefined) return undefined;
    chain.push(field);
    message = field.fieldKind === "message" && isPlainMessage(field.message) ? field.message : undefined;
  }
  return chain;
}

/** "a.b.c" in proto field names: the form errors and bindings use. */
export function protoPath(chain: readonly DescField[]): string {
  return chain.map((f) => f.name).join(".");
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
