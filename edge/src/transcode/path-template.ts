/**
 * google.api.http path templates:
 *
 *   Template = "/" Segments [ Verb ] ;
 *   Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;
 *   Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   FieldPath = IDENT { "." IDENT } ;
 *   Verb     = ":" LITERAL ;
 */

export type TemplateSegment =
  | { readonly kind: "literal"; readonly value: string }
  /** `*`: exactly one non-empty segment. */
  | { readonly kind: "wildcard" }
  /** `**`: zero or more segments. */
  | { readonly kind: "deepWildcard" };

export interface TemplateVariable {
  /** The field path as written in the template, e.g. "warehouse.id". */
  readonly fieldPath: string;
  /** Index of the variable's first segment in `PathTemplate.segments`. */
  readonly start: number;
  /** How many template segments the variable covers (1 for `{id}`). */
  readonly length: number;
}

export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  readonly verb: string | undefined;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LITERAL_END = new Set(["/", "{", "}", "=", ":", "*"]);

/** Parses a template; throws an Error naming the template when it does not follow the grammar. */
export function parsePathTemplate(source: string): PathTemplate {
  let pos = 0;
  const segments: TemplateSegment[] = [];
  const variables: TemplateVariable[] = [];
  const fail = (why: string): never => {
    throw new Error(`invalid path template "${source}" at ${pos}: ${why}`);
  };

  const readLiteral = (): string => {
    const start = pos;
    while (pos < source.length && !LITERAL_END.has(source[pos]!)) pos++;
    if (pos === start) fail("expected a segment");
    return source.slice(start, pos);
  };

  const readSegments = (inVariable: boolean): void => {
    for (;;) {
      if (source.startsWith("**", pos)) {
        segments.push({ kind: "deepWildcard" });
        pos += 2;
      } else if (source[pos] === "*") {
        segments.push({ kind: "wildcard" });
        pos += 1;
      } else if (source[pos] === "{") {
        if (inVariable) fail("variables cannot nest");
        readVariable();
      } else {
        segments.push({ kind: "literal", value: readLiteral() });
      }
      if (source[pos] !== "/") return;
      pos++;
    }
  };

  const readVariable = (): void => {
    pos++; // "{"
    const end = source.slice(pos).search(/[=}]/);
    if (end < 0) fail("unterminated variable");
    const fieldPath = source.slice(pos, pos + end);
    if (!fieldPath.split(".").every((part) => IDENT.test(part))) fail(`bad field path "${fieldPath}"`);
    pos += end;
    const start = segments.length;
    if (source[pos] === "=") {
      pos++;
      readSegments(true);
    } else {
      segments.push({ kind: "wildcard" });
    }
    if (source[pos] !== "}") fail('expected "}"');
    pos++;
    variables.push({ fieldPath, start, length: segments.length - start });
  };

  if (source[0] !== "/") fail('must start with "/"');
  pos = 1;
  readSegments(false);
  let verb: string | undefined;
  if (source[pos] === ":") {
    pos++;
    verb = readLiteral();
  }
  if (pos !== source.length) fail(`unexpected "${source[pos]}"`);
  if (segments.filter((s) => s.kind === "deepWildcard").length > 1) fail('at most one "**"');
  if (new Set(variables.map((v) => v.fieldPath)).size !== variables.length) fail("a field is bound twice");
  return { source, segments, variables, verb };
}

/** Full percent-decoding, as for a single-segment variable; undefined for malformed escapes. */
function decodeSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Multi-segment variables keep "%2F" encoded, so a decoded "/" always means a separator. */
function decodeReserved(raw: string): string | undefined {
  const parts = raw.split(/%2F/i).map(decodeSegment);
  return parts.every((p) => p !== undefined) ? parts.join("%2F") : undefined;
}

/**
 * Matches a URL path (without query string) against a template. Returns the variable
 * bindings keyed by field path, percent-decoded, or undefined when the path does not match.
 */
export function matchPath(template: PathTemplate | string, urlPath: string): Record<string, string> | undefined {
  const t = typeof template === "string" ? parsePathTemplate(template) : template;
  if (!urlPath.startsWith("/")) return undefined;
  let path = urlPath.slice(1);
  if (t.verb !== undefined) {
    const suffix = `:${t.verb}`;
    if (!path.endsWith(suffix)) return undefined;
    path = path.slice(0, -suffix.length);
  }
  const raw = path.split("/");
  const deep = t.segments.findIndex((s) => s.kind === "deepWildcard");
  const fixed = deep < 0 ? t.segments.length : t.segments.length - 1;
  if (deep < 0 ? raw.length !== fixed : raw.length < fixed) return undefined;
  const deepSpan = raw.length - fixed;

  // The URL segment where template segment i starts; `**` stretches over deepSpan segments.
  const from = (i: number): number => (deep >= 0 && i > deep ? i - 1 + deepSpan : i);
  const to = (i: number): number => (i === deep ? from(i) + deepSpan : from(i) + 1);

  for (const [i, segment] of t.segments.entries()) {
    const value = raw[from(i)];
    if (segment.kind === "literal" && (value === undefined || decodeSegment(value) !== segment.value)) return undefined;
    if (segment.kind === "wildcard" && !value) return undefined;
  }

  const bindings: Record<string, string> = {};
  for (const v of t.variables) {
    const last = v.start + v.length - 1;
    const text = raw.slice(from(v.start), to(last)).join("/");
    const single = v.length === 1 && t.segments[v.start]?.kind === "wildcard";
    const decoded = single ? decodeSegment(text) : decodeReserved(text);
    if (decoded === undefined) return undefined;
    bindings[v.fieldPath] = decoded;
  }
  return bindings;
}
