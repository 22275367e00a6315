import { isFieldSet, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { invalid } from "./errors.js";

export interface UpdatableFields {
  /** The top-level fields an Update may change, by proto name ("name", "location_type_id"). */
  mutable: readonly string[];
  /** Message fields whose sub-fields may be named on their own, with those sub-fields: `{ address: ["city", ...] }`. */
  nested?: Readonly<Record<string, readonly string[]>>;
  /** Whether the request gives the field a value; decides the fields of a maskless update. */
  present: (field: string) => boolean;
}

/**
 * The fields an Update call changes, as mask paths. With a mask, every path must be a mutable
 * field or a known sub-field of a nested one ("address.city"); duplicates collapse. Without one,
 * AIP-134 applies: every mutable field that has a value in the request. An update that would
 * change nothing is refused, so a caller who forgot the mask learns it instead of getting the
 * resource back unchanged.
 */
export function fieldsToUpdate(maskPaths: readonly string[] | undefined, fields: UpdatableFields): string[] {
  const chosen = !maskPaths || maskPaths.length === 0 ? fields.mutable.filter(fields.present) : [...new Set(maskPaths)];
  for (const path of chosen) {
    if (!isUpdatable(path, fields)) {
      const allowed = [...fields.mutable, ...Object.entries(fields.nested ?? {}).flatMap(([f, subs]) => subs.map((s) => `${f}.${s}`))];
      throw invalid("update_mask", "mutable_field", `update_mask path "${path}" is not a field that can be changed; allowed: ${allowed.join(", ")}`, path);
    }
  }
  if (chosen.length === 0) throw invalid("update_mask", "required", "nothing to update: name a field in update_mask or give it a value");
  return chosen;
}

function isUpdatable(path: string, fields: UpdatableFields): boolean {
  if (fields.mutable.includes(path)) return true;
  const dot = path.indexOf(".");
  if (dot < 0) return false;
  const top = path.slice(0, dot);
  return fields.mutable.includes(top) && (fields.nested?.[top] ?? []).includes(path.slice(dot + 1));
}

/**
 * `present` for a protobuf-es message: a field is present when it is set, which for proto3
 * fields without presence means "not the default value", the AIP-134 reading of a maskless update.
 */
export function presentIn<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): (field: string) => boolean {
  return (name) => {
    const field = schema.fields.find((f) => f.name === name);
    return field !== undefined && isFieldSet(message, field);
  };
}
