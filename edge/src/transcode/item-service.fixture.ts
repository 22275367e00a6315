/**
 * A test-only service in the style services will add later (custom `:verb` methods with
 * body "*", server streaming behind GET, `**` templates, custom HTTP methods), with every
 * kind of field the query mapping handles. Built from a FileDescriptorProto so the tests do
 * not depend on protos that are not in the repo yet.
 */
import { create, createFileRegistry, setExtension, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  type FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  MethodOptionsSchema,
  file_google_protobuf_field_mask,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
} from "@bufbuild/protobuf/wkt";
import { http } from "@inv/gen/google/api/annotations_pb";
import { HttpRuleSchema, type HttpRule } from "@inv/gen/google/api/http_pb";

type FieldInit = MessageInitShape<typeof FieldDescriptorProtoSchema>;

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function field(name: string, number: number, type: Type | string, extra: { typeName?: string; oneofIndex?: number } = {}): FieldInit {
  const typed = typeof type === "string" ? { type: Type.MESSAGE, typeName: type } : { type };
  return { name, number, label: Label.OPTIONAL, jsonName: camel(name), ...typed, ...extra };
}
const repeated = (f: FieldInit): FieldInit => ({ ...f, label: Label.REPEATED });
const enumField = (name: string, number: number, typeName: string): FieldInit => field(name, number, Type.ENUM, { typeName });

type RuleInit = MessageInitShape<typeof HttpRuleSchema>;
type Verb = "get" | "put" | "post" | "delete" | "patch";
const rule = (verb: Verb, path: string, rest: Omit<RuleInit, "pattern" | "$typeName"> = {}): RuleInit => ({
  pattern: { case: verb, value: path },
  ...rest,
});

function method(name: string, input: string, output: string, rule?: RuleInit, serverStreaming = false) {
  const options = create(MethodOptionsSchema);
  if (rule) setExtension(options, http, create(HttpRuleSchema, rule) as HttpRule);
  return { name, inputType: `.test.v1.${input}`, outputType: `.test.v1.${output}`, options, serverStreaming };
}

const labelsEntry = {
  name: "LabelsEntry",
  field: [field("key", 1, Type.STRING), field("value", 2, Type.STRING)],
  options: { mapEntry: true },
};

const file = create(FileDescriptorProtoSchema, {
  name: "test/v1/items.proto",
  package: "test.v1",
  syntax: "proto3",
  dependency: ["google/protobuf/timestamp.proto", "google/protobuf/field_mask.proto", "google/protobuf/wrappers.proto"],
  enumType: [
    {
      name: "Kind",
      value: [
        { name: "KIND_UNSPECIFIED", number: 0 },
        { name: "KIND_BOX", number: 1 },
        { name: "KIND_PALLET", number: 2 },
      ],
    },
  ],
  messageType: [
    { name: "Dimensions", field: [field("width_mm", 1, Type.UINT32), field("weight_kg", 2, Type.DOUBLE)] },
    {
      name: "Item",
      field: [
        field("id", 1, Type.STRING),
        field("sku", 2, Type.STRING),
        field("quantity", 3, Type.INT64),
        enumField("kind", 4, ".test.v1.Kind"),
        repeated(field("tags", 5, Type.STRING)),
        field("dims", 6, ".test.v1.Dimensions"),
        field("expires_at", 7, ".google.protobuf.Timestamp"),
        field("min_level", 8, ".google.protobuf.Int32Value"),
        field("fragile", 9, Type.BOOL),
        repeated(field("labels", 10, ".test.v1.Item.LabelsEntry")),
        field("serial", 11, Type.UINT64),
      ],
      nestedType: [labelsEntry],
    },
    { name: "GetItemRequest", field: [field("id", 1, Type.STRING), field("warehouse_id", 2, Type.STRING)] },
    { name: "FindItemBySkuRequest", field: [field("sku", 1, Type.STRING)] },
    {
      name: "SearchItemsRequest",
      field: [
        field("warehouse_id", 1, Type.STRING),
        repeated(field("tags", 2, Type.STRING)),
        enumField("kind", 3, ".test.v1.Kind"),
        repeated(enumField("kinds", 4, ".test.v1.Kind")),
        field("min_quantity", 5, Type.INT64),
        field("serial", 6, Type.UINT64),
        field("fragile", 7, Type.BOOL),
        field("after", 8, ".google.protobuf.Timestamp"),
        field("read_mask", 9, ".google.protobuf.FieldMask"),
        field("min_level", 10, ".google.protobuf.Int32Value"),
        field("dims", 11, ".test.v1.Dimensions"),
        repeated(field("labels", 12, ".test.v1.SearchItemsRequest.LabelsEntry")),
        field("cursor", 13, Type.BYTES),
        field("page_size", 14, Type.INT32),
      ],
      nestedType: [labelsEntry],
    },
    { name: "SearchItemsResponse", field: [repeated(field("items", 1, ".test.v1.Item")), field("next_page_token", 2, Type.STRING)] },
    { name: "UpdateItemRequest", field: [field("item", 1, ".test.v1.Item"), field("update_mask", 2, ".google.protobuf.FieldMask")] },
    {
      name: "ConfirmReservationRequest",
      field: [
        field("id", 1, Type.STRING),
        field("note", 2, Type.STRING),
        field("quantity", 3, Type.INT32),
        field("code", 4, Type.STRING, { oneofIndex: 0 }),
        field("text", 5, Type.STRING, { oneofIndex: 0 }),
      ],
      oneofDecl: [{ name: "reason" }],
    },
    { name: "Reservation", field: [field("id", 1, Type.STRING), field("state", 2, Type.STRING)] },
    { name: "GetReservationRequest", field: [field("id", 1, Type.STRING)] },
    { name: "WatchItemsRequest", field: [field("warehouse_id", 1, Type.STRING)] },
    { name: "GetShelfItemRequest", field: [field("name", 1, Type.STRING)] },
  ],
  service: [
    {
      name: "ItemService",
      method: [
        method(
          "GetItem",
          "GetItemRequest",
          "Item",
          rule("get", "/v1/items/{id}", {
            additionalBindings: [rule("get", "/v1/warehouses/{warehouse_id}/items/{id}")],
          }),
        ),
        method("FindItemBySku", "FindItemBySkuRequest", "Item", rule("get", "/v1/items:bySku")),
        method("SearchItems", "SearchItemsRequest", "SearchItemsResponse", rule("get", "/v1/warehouses/{warehouse_id}/items")),
        method("UpdateItem", "UpdateItemRequest", "Item", rule("patch", "/v1/items/{item.id}", { body: "item" })),
        method("ConfirmReservation", "ConfirmReservationRequest", "Reservation", rule("post", "/v1/reservations/{id}:confirm", { body: "*" })),
        method("GetReservation", "GetReservationRequest", "Reservation", rule("get", "/v1/reservations/{id}")),
        method("WatchItems", "WatchItemsRequest", "Item", rule("get", "/v1/warehouses/{warehouse_id}/items:watch"), true),
        method("GetShelfItem", "GetShelfItemRequest", "Item", rule("get", "/v1/{name=shelves/*/items/**}")),
        method("PurgeItem", "GetItemRequest", "Item", { pattern: { case: "custom", value: { kind: "PURGE", path: "/v1/items/{id}" } } }),
        method("Ping", "GetItemRequest", "Item"),
      ],
    },
  ],
});

const deps = [file_google_protobuf_timestamp, file_google_protobuf_field_mask, file_google_protobuf_wrappers];
const registry = createFileRegistry(file, (name) => deps.find((d) => d.proto.name === name));

export const ItemService: DescService = registry.getService("test.v1.ItemService")!;
