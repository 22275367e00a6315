import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { findField, httpBindings, queryParameterChains, resolveFieldPath, type HttpBinding } from "../transcode/index.js";
import { errorBodySchema } from "../http-errors.js";
import { noComments, type CommentSource } from "./comments.js";
import { openApiPath, parameterName, variablePattern } from "./paths.js";
import { isHttpBody } from "../rest.js";
import { downloadResponse, ERROR_SCHEMA_NAME, errorResponseComponents, errorResponses, type Response, type ResponseOrRef } from "./responses.js";
import { isRequired, SchemaBuilder, type SchemaObject } from "./schemas.js";
import { requiredPermission } from "@inv/platform";
import { accessOf, securitySchemes, type SecurityRequirement } from "./security.js";

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
  responses: Record<string, ResponseOrRef>;
  /** Either credential ([bearerAuth], [apiKeyAuth]), or [] for public operations. */
  security: SecurityRequirement[];
  /** The RPC's (user.v1.required_permission), absent when it declares none. */
  "x-required-permission"?: string;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: ApiInfo;
  servers: { url: string; description: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Partial<Record<"get" | "put" | "post" | "delete" | "patch", Operation>>>;
  components: { schemas: Record<string, SchemaObject>; responses: Record<string, Response>; securitySchemes: typeof securitySchemes };
}

const openApiMethods = new Set(["get", "put", "post", "delete", "patch"]);

/** The first sentence of a comment's first paragraph, for an operation summary. */
function firstSentence(text: string): string {
  const paragraph = text.split(/\n\s*\n/)[0]!.replace(/\s*\n\s*/g, " ");
  return /^.*?[.!?](?=\s+[A-Z]|$)/.exec(paragraph)?.[0] ?? paragraph;
}

/** "ListLocationTypes" → "List location types": the summary of a method nobody commented. */
const inWords = (name: string) => name.replace(/(?<=[a-z0-9])([A-Z])/g, (c) => ` ${c.toLowerCase()}`);

class DocumentBuilder {
  readonly schemas: SchemaBuilder;
  readonly paths: OpenApiDocument["paths"] = {};
  private readonly operationIds = new Set<string>();

  constructor(private readonly comments: CommentSource) {
    this.schemas = new SchemaBuilder(comments);
  }

  add(service: DescService, method: DescMethod, rule: HttpBinding): void {
    const verb = rule.httpMethod.toLowerCase();
    if (!openApiMethods.has(verb)) return; // custom HTTP methods have no OpenAPI 3.1 operation
    const path = openApiPath(rule.template);
    this.paths[path] ??= {};
    const item = this.paths[path];
    const key = verb as keyof typeof item;
    if (item[key] !== undefined) throw new Error(`${path} ${verb} is bound twice`);
    const comment = this.comments(method);
    const summary = comment === undefined ? inWords(method.name) : firstSentence(comment);
    const parameters = [...this.pathParameters(method, rule), ...this.queryParameters(method, rule)];
    const body = this.requestBody(method, rule);
    const permission = requiredPermission(method);
    const access = accessOf(permission);
    const operation: Operation = {
      operationId: this.operationId(service, method, rule),
      tags: [service.name],
      summary,
      // A one-sentence comment is the summary; the description adds who may call.
      description: comment !== undefined && comment !== summary ? `${comment}\n\n${access.sentence}` : access.sentence,
      ...(method.deprecated && { deprecated: true }),
      ...(parameters.length > 0 && { parameters }),
      ...(body !== undefined && { requestBody: { required: true, content: { "application/json": { schema: body } } } }),
      responses: { ...this.responses(method, rule), ...errorResponses({ httpMethod: verb, permission }) },
      security: access.security,
      ...(permission !== undefined && { "x-required-permission": permission }),
    };
    item[key] = operation;
  }

  /** Service_Method (with the binding's index for additional bindings), by package when names clash. */
  private operationId(service: DescService, method: DescMethod, rule: HttpBinding): string {
    const suffix = `${method.name}${rule.index === 0 ? "" : `_${rule.index}`}`;
    const short = `${service.name}_${suffix}`;
    const id = this.operationIds.has(short) ? `${service.typeName.replaceAll(".", "_")}_${suffix}` : short;
    if (this.operationIds.has(id)) throw new Error(`operationId ${id} is used twice`);
    this.operationIds.add(id);
    return id;
  }

  private pathParameters(method: DescMethod, rule: HttpBinding): Parameter[] {
    return rule.template.variables.map((v) => {
      const leaf = resolveFieldPath(method.input, v.fieldPath)!.at(-1)!;
      const schema = this.schemas.value(leaf);
      const single = v.length === 1 && rule.template.segments[v.start]?.kind === "wildcard";
      if (!single) schema.pattern = variablePattern(rule.template, v.start, v.length);
      const slashes = single ? undefined : 'Spans several path segments: its "/" are sent as they are, not percent-encoded.';
      const name = parameterName(rule.template, v);
      const fills = name === v.fieldPath ? undefined : `Sets the request field \`${v.fieldPath}\`.`;
      const description = [this.comments(leaf), fills, slashes].filter(Boolean).join("\n\n") || undefined;
      return { name, in: "path", required: true, ...(description !== undefined && { description }), schema };
    });
  }

  private queryParameters(method: DescMethod, rule: HttpBinding): Parameter[] {
    if (rule.body === "*") return [];
    const bound = new Set(
      rule.template.variables.map((v) =>
        resolveFieldPath(method.input, v.fieldPath)!
          .map((f) => f.name)
          .join("."),
      ),
    );
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
    // The path carries these fields, so the body schema leaves them out; the request message
    // is described inline, not as a component nothing would refer to.
    const component = this.schemas.object(method.input);
    const names = new Set(method.input.fields.filter((f) => topLevelBound.has(f.name)).map((f) => f.jsonName));
    const properties = Object.fromEntries(Object.entries(component.properties ?? {}).filter(([name]) => !names.has(name)));
    const { required, ...rest } = component;
    const stillRequired = required?.filter((name) => !names.has(name)) ?? [];
    return { ...rest, properties, ...(stillRequired.length > 0 && { required: stillRequired }) };
  }

  private responses(method: DescMethod, rule: HttpBinding): Record<string, Response> {
    if (isHttpBody(method.output)) return { "200": downloadResponse(method.methodKind === "server_streaming", this.comments(method)) };
    const field = rule.responseBody === "" ? undefined : findField(method.output, rule.responseBody);
    const schema = field === undefined ? this.schemas.message(method.output) : this.schemas.property(field);
    const ok: Response =
      method.methodKind === "server_streaming"
        ? { description: "A server stream: newline-delimited JSON, one message per line.", content: { "application/x-ndjson": { schema } } }
        : { description: "OK", content: { "application/json": { schema } } };
    return { "200": ok };
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
  const schemas = { ...doc.schemas.components, [ERROR_SCHEMA_NAME]: errorBodySchema };
  // Relative, so the document is right wherever the edge is reached (it serves the document too).
  const servers = [{ url: "/", description: "The edge this document was fetched from" }];
  const components = { schemas, responses: errorResponseComponents(), securitySchemes };
  return { openapi: "3.1.0", info: { ...info }, servers, tags, paths: doc.paths, components };
}

/** An Update method in the AIP style: its request carries a google.protobuf.FieldMask. */
const isPartialUpdate = (method: DescMethod) => method.input.fields.some((f) => f.message?.typeName === "google.protobuf.FieldMask");
