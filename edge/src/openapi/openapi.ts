import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { findField, httpBindings, queryParameterChains, resolveFieldPath, type HttpBinding, type PathTemplate } from "../transcode/index.js";
import { noComments, type CommentSource } from "./comments.js";
import { componentRef, isRequired, SchemaBuilder, type SchemaObject } from "./schemas.js";

export { commentsFromDescriptorSet, qualifiedName, type CommentSource } from "./comments.js";
export type { SchemaObject } from "./schemas.js";

export interface ApiInfo {
  title: string;
  version: string;
  description?: string;
}

export interface Parameter {
  name: string;
  in: "path" | "query";
  required?: boolean;
  description?: string;
  schema: SchemaObject;
}

interface MediaType {
  schema: SchemaObject;
}

export interface Operation {
  operationId: string;
  tags: string[];
  summary?: string;
  description?: string;
  deprecated?: boolean;
  parameters?: Parameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, MediaType> };
  responses: Record<string, { description: string; content?: Record<string, MediaType> }>;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: ApiInfo;
  tags: { name: string; description?: string }[];
  paths: Record<string, Partial<Record<"get" | "put" | "post" | "delete" | "patch", Operation>>>;
  components: { schemas: Record<string, SchemaObject> };
}

/** The shape of every error the edge answers with. */
export const errorSchema: SchemaObject = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "timestamp", "request_id"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        details: {
          type: "object",
          properties: { field: { type: "string" }, value: {}, constraint: { type: "string" } },
        },
        timestamp: { type: "string", format: "date-time" },
        request_id: { type: "string" },
      },
    },
  },
};

const errorResponses: Record<string, string> = {
  "400": "The request is invalid; details name the field at fault.",
  "401": "The request carries no valid credentials.",
  "403": "The caller lacks the permission this operation needs.",
  "404": "The resource does not exist.",
  "409": "The request conflicts with the current state (already exists, concurrent change, or a failed precondition).",
  "429": "Too many requests; retry later.",
  "500": "An unexpected error; the request id identifies it in the logs.",
};

const openApiMethods = new Set(["get", "put", "post", "delete", "patch"]);

/** "/v1/{name=shelves/*}/x:verb" → "/v1/{name}/x:verb"; multi-segment variables become one parameter. */
function openApiPath(t: PathTemplate): string {
  const parts: string[] = [];
  for (let i = 0; i < t.segments.length; i++) {
    const variable = t.variables.find((v) => v.start === i);
    const segment = t.segments[i]!;
    if (variable !== undefined) {
      parts.push(`{${variable.fieldPath}}`);
      i += variable.length - 1;
    } else {
      parts.push(segment.kind === "literal" ? segment.value : segment.kind === "wildcard" ? "*" : "**");
    }
  }
  return `/${parts.join("/")}${t.verb === undefined ? "" : `:${t.verb}`}`;
}

/** A regular expression for a multi-segment variable's value, e.g. "^shelves/[^/]+$". */
function variablePattern(t: PathTemplate, start: number, length: number): string {
  const parts = t.segments.slice(start, start + length).map((s) =>
    s.kind === "literal" ? s.value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : s.kind === "wildcard" ? "[^/]+" : ".*",
  );
  return `^${parts.join("/")}$`;
}

/** The first sentence of a comment's first paragraph, for an operation summary. */
function firstSentence(text: string): string {
  const paragraph = text.split(/\n\s*\n/)[0]!.replace(/\s*\n\s*/g, " ");
  return /^.*?[.!?](?=\s+[A-Z]|$)/.exec(paragraph)?.[0] ?? paragraph;
}

class DocumentBuilder {
  readonly schemas: SchemaBuilder;
  readonly paths: OpenApiDocument["paths"] = {};

  constructor(private readonly comments: CommentSource) {
    this.schemas = new SchemaBuilder(comments);
  }

  add(service: DescService, method: DescMethod, rule: HttpBinding): void {
    const verb = rule.httpMethod.toLowerCase();
    if (!openApiMethods.has(verb)) return; // custom HTTP methods have no OpenAPI 3.1 operation
    const path = openApiPath(rule.template);
    const item = (this.paths[path] ??= {});
    const key = verb as keyof typeof item;
    if (item[key] !== undefined) throw new Error(`${path} ${verb} is bound twice`);
    const comment = this.comments(method);
    const summary = comment === undefined ? undefined : firstSentence(comment);
    const parameters = [...this.pathParameters(method, rule), ...this.queryParameters(method, rule)];
    const body = this.requestBody(method, rule);
    const operation: Operation = {
      operationId: `${service.name}_${method.name}${rule.index === 0 ? "" : `_${rule.index}`}`,
      tags: [service.name],
      ...(summary !== undefined && { summary }),
      ...(comment !== undefined && comment !== summary && { description: comment }),
      ...(method.deprecated && { deprecated: true }),
      ...(parameters.length > 0 && { parameters }),
      ...(body !== undefined && { requestBody: { required: true, content: { "application/json": { schema: body } } } }),
      responses: this.responses(method, rule),
    };
    item[key] = operation;
  }

  private pathParameters(method: DescMethod, rule: HttpBinding): Parameter[] {
    return rule.template.variables.map((v) => {
      const leaf = resolveFieldPath(method.input, v.fieldPath)!.at(-1)!;
      const schema = this.schemas.value(leaf);
      const single = v.length === 1 && rule.template.segments[v.start]?.kind === "wildcard";
      if (!single) schema.pattern = variablePattern(rule.template, v.start, v.length);
      const slashes = single ? undefined : 'Spans several path segments: its "/" are sent as they are, not percent-encoded.';
      const description = [this.comments(leaf), slashes].filter(Boolean).join("\n\n") || undefined;
      return { name: v.fieldPath, in: "path", required: true, ...(description !== undefined && { description }), schema };
    });
  }

  private queryParameters(method: DescMethod, rule: HttpBinding): Parameter[] {
    if (rule.body === "*") return [];
    const bound = new Set(rule.template.variables.map((v) => resolveFieldPath(method.input, v.fieldPath)!.map((f) => f.name).join(".")));
    const skip = (path: string) => bound.has(path) || (rule.body !== "" && (path === rule.body || path.startsWith(`${rule.body}.`)));
    return queryParameterChains(method.input, skip).map((chain) => {
      const leaf = chain.at(-1)!;
      const schema = this.schemas.property(leaf);
      const { description, ...rest } = schema;
      const required = chain.every(isRequired);
      return {
        name: chain.map((f) => f.jsonName).join("."),
        in: "query",
        ...(required && { required }),
        ...(description !== undefined && { description }),
        schema: rest,
      };
    });
  }

  private requestBody(method: DescMethod, rule: HttpBinding): SchemaObject | undefined {
    if (rule.body === "") return undefined;
    if (rule.body !== "*") {
      const field = findField(method.input, rule.body)!;
      const schema = this.schemas.property(field);
      if (!field.message || !isPartialUpdate(method)) return schema;
      // Only the fields named in the update mask are read, so none of the resource's is required here.
      const { required: _required, ...partial } = this.schemas.component(field.message);
      return { ...partial, ...(schema.description !== undefined && { description: schema.description }) };
    }
    const topLevelBound = new Set(rule.template.variables.filter((v) => !v.fieldPath.includes(".")).map((v) => v.fieldPath));
    if (topLevelBound.size === 0) return this.schemas.message(method.input);
    // The path carries these fields, so the body schema leaves them out.
    const component = this.schemas.component(method.input);
    const names = new Set(method.input.fields.filter((f) => topLevelBound.has(f.name)).map((f) => f.jsonName));
    const properties = Object.fromEntries(Object.entries(component.properties ?? {}).filter(([name]) => !names.has(name)));
    const { required, ...rest } = component;
    const stillRequired = required?.filter((name) => !names.has(name)) ?? [];
    return { ...rest, properties, ...(stillRequired.length > 0 && { required: stillRequired }) };
  }

  private responses(method: DescMethod, rule: HttpBinding): Operation["responses"] {
    const field = rule.responseBody === "" ? undefined : findField(method.output, rule.responseBody);
    const schema = field === undefined ? this.schemas.message(method.output) : this.schemas.property(field);
    const ok =
      method.methodKind === "server_streaming"
        ? { description: "A server stream: newline-delimited JSON, one message per line.", content: { "application/x-ndjson": { schema } } }
        : { description: "OK", content: { "application/json": { schema } } };
    const errors = Object.entries(errorResponses).map(([status, description]) => [
      status,
      { description, content: { "application/json": { schema: { $ref: componentRef("Error") } } } },
    ]);
    return { "200": ok, ...Object.fromEntries(errors) };
  }
}

/**
 * An OpenAPI 3.1 document for the REST surface the google.api.http rules of `services`
 * define, mirroring the transcoder: same paths, query parameters and proto JSON shapes.
 */
export function buildOpenApi(services: readonly DescService[], info: ApiInfo, comments: CommentSource = noComments): OpenApiDocument {
  const doc = new DocumentBuilder(comments);
  for (const service of services) {
    for (const method of service.methods) {
      for (const rule of httpBindings(method)) doc.add(service, method, rule);
    }
  }
  const tags = services.map((s) => {
    const description = comments(s);
    return { name: s.name, ...(description !== undefined && { description }) };
  });
  const schemas = { ...doc.schemas.components, Error: errorSchema };
  return { openapi: "3.1.0", info: { ...info }, tags, paths: doc.paths, components: { schemas } };
}

/** An Update method in the AIP style: its request carries a google.protobuf.FieldMask. */
const isPartialUpdate = (method: DescMethod) => method.input.fields.some((f) => f.message?.typeName === "google.protobuf.FieldMask");
