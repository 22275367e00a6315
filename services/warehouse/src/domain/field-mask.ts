import { invalid } from "@inv/platform";

/**
 * The fields an Update call changes. With a mask, every path must be one the resource allows
 * (a path may name a sub-field, "address.city", when its parent is listed as nested). Without
 * one, AIP-134 applies: every mutable field that has a value in the request.
 */
export function fieldsToUpdate(
  maskPaths: readonly string[] | undefined,
  opts: { mutable: readonly string[]; nested?: readonly string[]; present: (field: string) => boolean },
): string[] {
  if (!maskPaths || maskPaths.length === 0) return opts.mutable.filter(opts.present);
  const paths = new Set<string>();
  for (const path of maskPaths) {
    const top = path.split(".")[0] ?? "";
    const allowed = opts.mutable.includes(path) || (path !== top && (opts.nested ?? []).includes(top));
    if (!allowed) {
      throw invalid("update_mask", "mutable_field", `update_mask path "${path}" is not a field that can be changed; allowed: ${opts.mutable.join(", ")}`, path);
    }
    paths.add(path);
  }
  return [...paths];
}
