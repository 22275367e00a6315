import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BadRequest_FieldViolationSchema } from "@inv/gen/google/rpc/error_details_pb";
import { FieldBehaviorSchema } from "@inv/gen/google/api/field_behavior_pb";
import { WarehouseSchema, WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { publicServices } from "@inv/service-catalog/descriptors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ItemService } from "../transcode/item-service.fixture.js";
import { errorBodySchema } from "../http-errors.js";
import { httpBindings } from "../transcode/routes.js";
import { openApiPath } from "./paths.js";
import { requiredPermission } from "@inv/platform";
import type { Response } from "./responses.js";
import { buildOpenApi, commentsFromDescriptorSet, type CommentSource, type OpenApiDocument, type Operation } from "./openapi.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const info = { title: "Inventory", version: "1.0.0" };
const services = [WarehouseService, ItemService];

let tmp: string;
let comments: CommentSource;
let doc: OpenApiDocument;

beforeAll(() => {
  // buf keeps source_code_info in the image it writes, which is where the comments are.
  tmp = mkdtempSync(join(tmpdir(), "openapi-test-"));
  const image = join(tmp, "image.binpb");
  execFileSync(join(repoRoot, "node_modules/.bin/buf"), ["build", "-o", image], { cwd: repoRoot, stdio: "pipe" });
  comments = commentsFromDescriptorSet(readFileSync(image));
  doc = buildOpenApi(services, info, comments);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const operations = (d: OpenApiDocument) =>
  Object.entries(d.paths).flatMap(([path, item]) => Object.entries(item).map(([verb, op]) => ({ path, verb, op: op as Operation })));

/** The success response of an operation: never a $ref. */
const ok = (op: Operation) => op.responses["200"] as Response;

/** Every "$ref" anywhere in a JSON value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === "$ref" && typeof v === "string" ? [v] : refs(v)));
}

describe("buildOpenApi", () => {
  it("is an OpenAPI 3.1 document that survives JSON serialization unchanged", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toEqual(info);
    expect(JSON.parse(JSON.stringify(doc))).toStrictEqual(doc);
    for (const ref of refs(doc)) {
      const [, , kind, name] = ref.split("/");
      expect(kind === "schemas" || kind === "responses", ref).toBe(true);
      expect(doc.components[kind as "schemas" | "responses"][name!], ref).toBeDefined();
    }
    const ids = operations(doc).map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("has one operation for every path and verb of the WarehouseService rules", () => {
    const expected = WarehouseService.methods.flatMap((m) =>
      httpBindings(m).map((b) => `${b.httpMethod.toLowerCase()} ${openApiPath(b.template)} ${WarehouseService.name}_${m.name}`),
    );
    const actual = operations(doc)
      .filter((o) => o.op.tags.includes("WarehouseService"))
      .map((o) => `${o.verb} ${o.path} ${o.op.operationId}`);
    expect(actual.sort()).toEqual(expected.sort());
    expect(expected).toHaveLength(15);
  });

  it("declares every path variable as a required path parameter", () => {
    for (const { path, op } of operations(doc)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === "path");
      expect(declared.map((p) => p.name)).toEqual(names);
      expect(declared.every((p) => p.required === true)).toBe(true);
    }
    const patch = doc.paths["/v1/warehouses/{id}"]!.patch!;
    expect(patch.parameters).toContainEqual(expect.objectContaining({ name: "id", in: "path", schema: { type: "string" } }));
    expect(patch.parameters![0]!.description).toMatch(/Sets the request field `warehouse.id`.$/);
  });

  it("names path parameters by the field's last part, so no two paths differ only by parameter names", () => {
    expect(Object.keys(doc.paths["/v1/warehouses/{id}"]!).sort()).toEqual(["delete", "get", "patch"]);
    expect(Object.keys(doc.paths["/v1/warehouses/{warehouse_id}/locations"]!).sort()).toEqual(["get", "post"]);
    const shapes = Object.keys(doc.paths).map((path) => path.replace(/\{[^}]+\}/g, "{}"));
    expect(new Set(shapes).size).toBe(shapes.length);
  });

  it("maps query parameters, request bodies and response_body", () => {
    const list = doc.paths["/v1/warehouses"]!.get!;
    expect(list.parameters!.map((p) => `${p.in}:${p.name}`)).toEqual(["query:pageSize", "query:pageToken", "query:active", "query:code", "query:showDeleted"]);
    expect(list.requestBody).toBeUndefined();
    expect(ok(list).content!["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/warehouse.v1.ListWarehousesResponse" });

    const create = doc.paths["/v1/warehouses"]!.post!;
    expect(create.parameters?.filter((p) => p.in === "path") ?? []).toEqual([]);
    expect(create.requestBody!.content["application/json"]!.schema).toMatchObject({ $ref: "#/components/schemas/warehouse.v1.Warehouse" });
    expect(ok(create).content!["application/json"]!.schema).toMatchObject({ $ref: "#/components/schemas/warehouse.v1.Warehouse" });

    const update = doc.paths["/v1/warehouses/{id}"]!.patch!;
    expect(update.parameters!.map((p) => `${p.in}:${p.name}`)).toEqual(["path:id", "query:updateMask"]);
    // A partial update requires none of the resource's fields, though creating one requires code and name.
    const patchBody = update.requestBody!.content["application/json"]!.schema;
    expect(Object.keys(patchBody.properties!)).toEqual(expect.arrayContaining(["name", "priority", "address"]));
    expect(patchBody.required).toBeUndefined();
    expect(doc.components.schemas["warehouse.v1.Warehouse"]!.required).toEqual(["code", "name"]);

    const search = doc.paths["/v1/warehouses/{warehouse_id}/items"]!.get!;
    const names = search.parameters!.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["tags", "kinds", "minQuantity", "dims.widthMm", "dims.weightKg", "readMask"]));
    expect(names).not.toContain("warehouseId");
    expect(names).not.toContain("labels");
    expect(search.parameters!.find((p) => p.name === "tags")!.schema).toEqual({ type: "array", items: { type: "string" } });

    const confirm = doc.paths["/v1/reservations/{id}:confirm"]!.post!;
    const body = confirm.requestBody!.content["application/json"]!.schema;
    expect(Object.keys(body.properties!)).toEqual(["note", "quantity", "code", "text"]);
    expect(confirm.parameters!.map((p) => p.name)).toEqual(["id"]);
  });

  it("documents every error status the edge sends, each a response whose body is the one Error schema", () => {
    for (const { verb, op } of operations(doc)) {
      const expected = ["200", "400", "401", "403", "404", ...(verb === "get" ? [] : ["409"]), "413", "415", "429", "500", "501", "503", "504"];
      expect(Object.keys(op.responses).sort(), `${verb} ${op.operationId}`).toEqual(expected);
      for (const status of expected.slice(1)) {
        const ref = (op.responses[status] as { $ref: string }).$ref;
        expect(doc.components.responses[ref.slice("#/components/responses/".length)]!.content).toEqual({
          "application/json": { schema: { $ref: "#/components/schemas/Error" } },
        });
      }
    }
    expect(doc.components.schemas["Error"]).toBe(errorBodySchema);
  });

  it("has a relative server, a summary and a tag on every operation, and only components something refers to", () => {
    expect(doc.servers).toEqual([{ url: "/", description: expect.any(String) }]);
    for (const { op } of operations(doc)) {
      expect(op.summary).toBeTruthy();
      expect(doc.tags.map((t) => t.name)).toContain(op.tags[0]);
    }
    // What the paths reach, following $refs from component to component.
    const reached = new Set<string>();
    const visit = (ref: string) => {
      if (reached.has(ref)) return;
      reached.add(ref);
      const [, , kind, name] = ref.split("/") as [string, string, "schemas" | "responses", string];
      refs(doc.components[kind][name]).forEach(visit);
    };
    refs(doc.paths).forEach(visit);
    for (const kind of ["schemas", "responses"] as const) {
      for (const name of Object.keys(doc.components[kind])) expect(reached, name).toContain(`#/components/${kind}/${name}`);
    }
    expect(doc.components.schemas["test.v1.ConfirmReservationRequest"]).toBeUndefined(); // its body is described inline
  });

  it("follows the proto JSON mapping in component schemas", () => {
    const warehouse = doc.components.schemas["warehouse.v1.Warehouse"]!;
    expect(warehouse.required).toEqual(["code", "name"]);
    expect(warehouse.properties!["id"]!.readOnly).toBe(true);
    expect(warehouse.properties!["createTime"]).toMatchObject({ type: "string", format: "date-time", readOnly: true });
    expect(warehouse.properties!["priority"]).toMatchObject({ type: "integer", format: "int32" });
    expect(warehouse.properties!["code"]!.readOnly).toBeUndefined();
    const location = doc.components.schemas["warehouse.v1.Location"]!;
    expect(location.properties!["metadata"]).toMatchObject({ type: "object", additionalProperties: { type: "string" } });
    const item = doc.components.schemas["test.v1.Item"]!;
    expect(item.properties!["quantity"]).toMatchObject({ type: "string", format: "int64" });
    expect(item.properties!["kind"]).toEqual({ $ref: "#/components/schemas/test.v1.Kind" });
    expect(item.properties!["minLevel"]).toEqual({ type: "integer", format: "int32" });
    expect(doc.components.schemas["test.v1.Kind"]).toEqual({ type: "string", enum: ["KIND_UNSPECIFIED", "KIND_BOX", "KIND_PALLET"] });
    expect(doc.components.schemas["warehouse.v1.UpdateWarehouseRequest"]).toBeUndefined();
  });

  it("documents server streams as newline-delimited JSON and skips custom HTTP methods", () => {
    const watch = doc.paths["/v1/warehouses/{warehouse_id}/items:watch"]!.get!;
    expect(ok(watch).content).toEqual({ "application/x-ndjson": { schema: { $ref: "#/components/schemas/test.v1.Item" } } });
    expect(operations(doc).some((o) => o.op.operationId === "ItemService_PurgeItem")).toBe(false);
    expect(doc.paths["/v1/warehouses/{warehouse_id}/items/{id}"]!.get!.operationId).toBe("ItemService_GetItem_1");
    expect(doc.paths["/v1/{name}"]!.get!.parameters![0]!.schema.pattern).toBe("^shelves/[^/]+/items/.*$");
  });

  it("takes descriptions from proto comments", () => {
    expect(doc.tags).toContainEqual({ name: "WarehouseService", description: expect.stringContaining("owns the physical places stock lives in") });
    const get = doc.paths["/v1/warehouses/{id}"]!.get!;
    expect(get.summary).toBe("Returns one warehouse by id; deleted warehouses are returned too (with delete_time set).");
    expect(get.description).toBe("Needs the `warehouse.read` permission (or `warehouse.*` or `*`)."); // a one-sentence comment is only the summary
    expect(get.parameters![0]!.description).toBe("The warehouse id.");
    const createLocation = doc.paths["/v1/warehouses/{warehouse_id}/locations"]!.post!;
    expect(createLocation.summary).toBe("Creates a location inside a warehouse, at the top level or under a parent location.");
    expect(createLocation.description).toMatch(/\nThe warehouse, the parent and the type must exist and not be deleted\./);
    expect(createLocation.description).toMatch(/\n\nNeeds the `warehouse.write` permission \(or `warehouse.\*` or `\*`\)\.$/);
    const warehouse = doc.components.schemas["warehouse.v1.Warehouse"]!;
    expect(warehouse.description).toBe("A physical site that holds stock.");
    expect(warehouse.properties!["code"]!.description).toBe(
      'Short business code, e.g. "AMS-1": 2 to 32 characters of A-Z, 0-9, "-" and "_", upper case.\nUnique among warehouses that are not deleted; cannot be changed.',
    );
    expect(doc.paths["/v1/warehouses"]!.get!.parameters![0]!.description).toBe("Maximum number of warehouses to return, 1 to 500; 0 means 50.");
  });

  it("has no descriptions without a comment source", () => {
    const bare = buildOpenApi([WarehouseService], info);
    expect(bare.tags).toEqual([{ name: "WarehouseService" }]);
    expect(bare.paths["/v1/warehouses/{id}"]!.get!.summary).toBe("Get warehouse"); // from the method name
    expect(bare.paths["/v1/warehouses/{id}"]!.get!.description).toBe("Needs the `warehouse.read` permission (or `warehouse.*` or `*`).");
    expect(bare.components.schemas["warehouse.v1.Warehouse"]!.description).toBeUndefined();
  });
});

describe("access in the document", () => {
  const all = buildOpenApi(publicServices, info);
  const either = [{ bearerAuth: [] }, { apiKeyAuth: [] }];
  const bound = publicServices.flatMap((service) =>
    service.methods.flatMap((method) =>
      httpBindings(method).map((rule) => ({ method, op: all.paths[openApiPath(rule.template)]![rule.httpMethod.toLowerCase() as "get"]! })),
    ),
  );

  it("declares a bearer token (JWT) and an API key in x-api-key", () => {
    expect(all.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: "http", scheme: "bearer", bearerFormat: "JWT" }),
      apiKeyAuth: expect.objectContaining({ type: "apiKey", in: "header", name: "x-api-key" }),
    });
  });

  it("gives every operation the security, x-required-permission, description and 401/403/429 its permission calls for", () => {
    expect(bound.length).toBeGreaterThan(50);
    const kinds = new Set<string>();
    for (const { method, op } of bound) {
      const permission = requiredPermission(method);
      const where = `${op.operationId} (${permission})`;
      expect(permission, where).toBeDefined(); // every public RPC declares one
      expect(op["x-required-permission"], where).toBe(permission);
      expect(op.security, where).toEqual(permission === "public" ? [] : either);
      expect(op.responses["401"], where).toEqual({ $ref: "#/components/responses/Unauthenticated" });
      expect(op.responses["429"], where).toEqual({ $ref: "#/components/responses/TooManyRequests" });
      const needsOne = permission !== "public" && permission !== "authenticated";
      expect(op.responses["403"] !== undefined, where).toBe(needsOne);
      if (needsOne) expect(op.description, where).toContain(`Needs the \`${permission}\` permission`);
      kinds.add(needsOne ? "permission" : permission!);
    }
    expect([...kinds].sort()).toEqual(["authenticated", "permission", "public"]);
    const login = all.paths["/v1/auth:login"]!.post!;
    expect(login).toMatchObject({ security: [], "x-required-permission": "public" });
    expect(login.description).toBe("Public: no credentials needed."); // no comment source here
  });

  it("refuses RPCs that declare no permission, and says so", () => {
    const op = doc.paths["/v1/warehouses/{warehouse_id}/items"]!.get!; // the test fixture declares none
    expect(op.security).toEqual(either);
    expect(op["x-required-permission"]).toBeUndefined();
    expect(op.description).toMatch(/every call is refused \(default deny\)/);
    expect(op.responses["403"]).toBeDefined();
  });

  it("documents Retry-After and RateLimit-* on 429, and the Bearer challenge on 401", () => {
    expect(Object.keys(all.components.responses["TooManyRequests"]!.headers!)).toEqual([
      "Retry-After",
      "RateLimit-Limit",
      "RateLimit-Remaining",
      "RateLimit-Reset",
    ]);
    expect(Object.keys(all.components.responses["Unauthenticated"]!.headers!)).toEqual(["WWW-Authenticate"]);
  });
});

describe("commentsFromDescriptorSet", () => {
  it("resolves services, methods, messages, nested messages, fields, enums and enum values", () => {
    expect(comments(WarehouseService)).toMatch(/^WarehouseService owns/);
    expect(comments(WarehouseService.method["deleteWarehouse"]!)).toMatch(/^Soft-deletes a warehouse/);
    expect(comments(WarehouseSchema)).toBe("A physical site that holds stock.");
    expect(comments(WarehouseSchema.field["priority"]!)).toMatch(/^Fulfilment priority/);
    expect(comments(BadRequest_FieldViolationSchema)).toBe("A message type used to describe a single bad request field.");
    expect(comments(FieldBehaviorSchema)).toMatch(/^An indicator of the behavior of a given field/);
    expect(comments(FieldBehaviorSchema.values.find((v) => v.name === "OUTPUT_ONLY")!)).toMatch(/output only/i);
    expect(comments(ItemService)).toBeUndefined();
  });
});
