import type { PathTemplate, TemplateVariable } from "../transcode/index.js";

/**
 * The OpenAPI name of a path variable: the last part of its field path ("warehouse.id" → "id"),
 * so that GET /v1/warehouses/{id} and PATCH /v1/warehouses/{warehouse.id} are one OpenAPI path
 * (client generators refuse paths that differ only by parameter names). The whole field path is
 * kept when two variables of one template would share a name. The transcoder is unaffected: it
 * binds by position in the template, to the field the rule names.
 */
export function parameterName(t: PathTemplate, v: TemplateVariable): string {
  const last = (fieldPath: string) => fieldPath.slice(fieldPath.lastIndexOf(".") + 1);
  const name = last(v.fieldPath);
  const shared = t.variables.some((other) => other !== v && last(other.fieldPath) === name);
  return shared ? v.fieldPath : name;
}

/** "/v1/{name=shelves/*}/x:verb" → "/v1/{name}/x:verb"; multi-segment variables become one parameter. */
export function openApiPath(t: PathTemplate): string {
  const parts: string[] = [];
  for (let i = 0; i < t.segments.length; i++) {
    const variable = t.variables.find((v) => v.start === i);
    const segment = t.segments[i]!;
    if (variable !== undefined) {
      parts.push(`{${parameterName(t, variable)}}`);
      i += variable.length - 1;
    } else {
      parts.push(segment.kind === "literal" ? segment.value : segment.kind === "wildcard" ? "*" : "**");
    }
  }
  return `/${parts.join("/")}${t.verb === undefined ? "" : `:${t.verb}`}`;
}

/** A regular expression for a multi-segment variable's value, e.g. "^shelves/[^/]+$". */
export function variablePattern(t: PathTemplate, start: number, length: number): string {
  const parts = t.segments
    .slice(start, start + length)
    .map((s) => (s.kind === "literal" ? s.value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : s.kind === "wildcard" ? "[^/]+" : ".*"));
  return `^${parts.join("/")}$`;
}
