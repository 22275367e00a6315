import { getOption, hasOption, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { http } from "@inv/gen/google/api/annotations_pb";
import type { HttpRule } from "@inv/gen/google/api/http_pb";
import { resolveFieldPath } from "./fields.js";
import { matchPath, parsePathTemplate, type PathTemplate } from "./path-template.js";

/** One HTTP binding of a method: its google.api.http rule, or one of the rule's additional_bindings. */
export interface HttpBinding {
  /** Upper-case HTTP method; "*" for a custom pattern that accepts any method. */
  readonly httpMethod: string;
  readonly template: PathTemplate;
  /** "" (no body), "*" (the whole input message) or the proto name of a top-level input field. */
  readonly body: string;
  /** "" (the whole output message) or the proto name of a top-level output field. */
  readonly responseBody: string;
  /** 0 for the rule itself, n for its n-th additional binding. */
  readonly index: number;
}

export interface Route {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly rule: HttpBinding;
}

export type RouteMatch =
  | {
      readonly kind: "match";
      readonly service: DescService;
      readonly method: DescMethod;
      readonly rule: HttpBinding;
      readonly pathVars: Record<string, string>;
    }
  | { readonly kind: "notFound" }
  | { readonly kind: "methodNotAllowed"; readonly allow: string[] };

export interface RouteTable {
  /** Every route, most specific template first. */
  readonly routes: readonly Route[];
  /** `path` is the URL path only, still percent-encoded (no query string). */
  match(httpMethod: string, path: string): RouteMatch;
}

function patternOf(rule: HttpRule): { httpMethod: string; path: string } | undefined {
  switch (rule.pattern.case) {
    case undefined:
      return undefined;
    case "custom":
      return { httpMethod: rule.pattern.value.kind.toUpperCase(), path: rule.pattern.value.path };
    default:
      return { httpMethod: rule.pattern.case.toUpperCase(), path: rule.pattern.value };
  }
}

function toBinding(method: DescMethod, rule: HttpRule, index: number): HttpBinding {
  const where = `${method.parent.typeName}.${method.name} http rule #${index}`;
  const pattern = patternOf(rule);
  if (pattern === undefined) throw new Error(`${where}: no HTTP method/path`);
  const template = parsePathTemplate(pattern.path);
  for (const v of template.variables) {
    const chain = resolveFieldPath(method.input, v.fieldPath);
    const leaf = chain?.at(-1);
    if (leaf === undefined || (leaf.fieldKind !== "scalar" && leaf.fieldKind !== "enum")) {
      throw new Error(`${where}: path variable {${v.fieldPath}} is not a singular scalar field of ${method.input.typeName}`);
    }
  }
  if (rule.body !== "" && rule.body !== "*" && method.input.fields.every((f) => f.name !== rule.body)) {
    throw new Error(`${where}: body "${rule.body}" is not a field of ${method.input.typeName}`);
  }
  if (rule.responseBody !== "" && method.output.fields.every((f) => f.name !== rule.responseBody)) {
    throw new Error(`${where}: response_body "${rule.responseBody}" is not a field of ${method.output.typeName}`);
  }
  return { httpMethod: pattern.httpMethod, template, body: rule.body, responseBody: rule.responseBody, index };
}

/**
 * The validated HTTP bindings of a method; [] when it has no google.api.http rule.
 * Throws when the rule is malformed or names fields the messages do not have, so that a
 * broken contract fails at startup rather than on the first request.
 */
export function httpBindings(method: DescMethod): HttpBinding[] {
  if (!hasOption(method, http)) return [];
  if (method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming") {
    throw new Error(`${method.parent.typeName}.${method.name}: client-streaming methods cannot be transcoded`);
  }
  const rule = getOption(method, http);
  const bindings = [toBinding(method, rule, 0)];
  for (const [i, extra] of rule.additionalBindings.entries()) {
    if (extra.additionalBindings.length > 0) {
      throw new Error(`${method.parent.typeName}.${method.name}: additional_bindings cannot nest`);
    }
    bindings.push(toBinding(method, extra, i + 1));
  }
  return bindings;
}

const segmentRank = { literal: 0, wildcard: 1, deepWildcard: 2 } as const;

/** Negative when `a` is more specific: literals beat variables position by position, then a verb wins. */
export function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const ra = a.segments[i] ? segmentRank[a.segments[i]!.kind] : -1;
    const rb = b.segments[i] ? segmentRank[b.segments[i]!.kind] : -1;
    if (ra !== rb) return ra - rb;
  }
  return (a.verb === undefined ? 1 : 0) - (b.verb === undefined ? 1 : 0);
}

function templateKey(t: PathTemplate): string {
  const segments = t.segments.map((s) => (s.kind === "literal" ? s.value : s.kind === "wildcard" ? "*" : "**"));
  return `/${segments.join("/")}${t.verb === undefined ? "" : `:${t.verb}`}`;
}

export function buildRouteTable(services: readonly DescService[]): RouteTable {
  const routes: Route[] = [];
  const seen = new Map<string, string>();
  for (const service of services) {
    for (const method of service.methods) {
      for (const rule of httpBindings(method)) {
        const key = `${rule.httpMethod} ${templateKey(rule.template)}`;
        const owner = `${service.typeName}.${method.name}`;
        const clash = seen.get(key);
        if (clash !== undefined) throw new Error(`${owner}: route ${key} is already bound by ${clash}`);
        seen.set(key, owner);
        routes.push({ service, method, rule });
      }
    }
  }
  routes.sort((a, b) => compareSpecificity(a.rule.template, b.rule.template));

  const keys = new Map(routes.map((r) => [r, templateKey(r.rule.template)]));
  const candidates = candidatesByPrefix(routes);
  return {
    routes,
    match(httpMethod, path) {
      const verb = httpMethod.toUpperCase();
      // The most specific matching template names the resource; only its methods compete,
      // so GET /v1/reservations/r1:confirm is a 405 when only POST ...:confirm exists.
      let resource: string | undefined;
      const allow = new Set<string>();
      for (const route of candidates(path)) {
        if (resource !== undefined && keys.get(route) !== resource) continue;
        const pathVars = matchPath(route.rule.template, path);
        if (pathVars === undefined) continue;
        resource = keys.get(route);
        if (route.rule.httpMethod === verb || route.rule.httpMethod === "*") {
          return { kind: "match", service: route.service, method: route.method, rule: route.rule, pathVars };
        }
        allow.add(route.rule.httpMethod);
      }
      return allow.size === 0 ? { kind: "notFound" } : { kind: "methodNotAllowed", allow: [...allow].sort() };
    },
  };
}

/** "v1/warehouses" for a template that starts with two literal segments. */
function literalPrefix(t: PathTemplate): string | undefined {
  const [first, second] = t.segments;
  return first?.kind === "literal" && second?.kind === "literal" ? `${first.value}/${second.value}` : undefined;
}

/**
 * The routes a path could match, still most specific first. Paths are told apart by their first
 * two segments ("v1/warehouses") nearly always, so each such prefix keeps its own short list
 * (its routes and those without a literal prefix) and a request is tried against a handful of
 * templates instead of every one: matching every route showed up in the edge's CPU profile.
 */
function candidatesByPrefix(routes: readonly Route[]): (path: string) => readonly Route[] {
  const general = routes.filter((r) => literalPrefix(r.rule.template) === undefined);
  const byPrefix = new Map<string, Route[]>();
  for (const route of routes) {
    const prefix = literalPrefix(route.rule.template);
    if (prefix !== undefined && !byPrefix.has(prefix)) {
      byPrefix.set(
        prefix,
        routes.filter((r) => [undefined, prefix].includes(literalPrefix(r.rule.template))),
      );
    }
  }
  return (path) => {
    if (path.includes("%")) return routes; // literals are compared decoded: no shortcut
    const firstEnd = path.indexOf("/", 1);
    if (firstEnd < 0) return general;
    const secondEnd = path.indexOf("/", firstEnd + 1);
    // A literal never holds ":", so a verb (or anything after a ":") is not part of the prefix.
    const second = path.slice(firstEnd + 1, secondEnd < 0 ? undefined : secondEnd).split(":")[0];
    return byPrefix.get(`${path.slice(1, firstEnd)}/${second}`) ?? general;
  };
}
