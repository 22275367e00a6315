import { getOption, ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { FieldBehavior, field_behavior } from "@inv/gen/google/api/field_behavior_pb";
import type { CommentSource } from "./comments.js";

/** The JSON Schema 2020-12 subset the document uses. */
export interface SchemaObject {
  $ref?: string;
  type?: string | string[];
  format?: string;
  pattern?: string;
  contentEncoding?: string;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  additionalProperties?: SchemaObject | boolean;
  required?: string[];
  description?: string;
  readOnly?: boolean;
  writeOnly?: boolean;
  deprecated?: boolean;
}

const int64 = (format: string, pattern: string): SchemaObject => ({ type: "string", format, pattern });

/** Proto JSON mapping of scalars: 64-bit integers travel as decimal strings. */
export function scalarSchema(scalar: ScalarType): SchemaObject {
  switch (scalar) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", minimum: 0, maximum: 4294967295 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64("int64", "^-?[0-9]+$");
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return int64("uint64", "^[0-9]+$");
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte", contentEncoding: "base64" };
  }
}

/** Well-known types whose proto JSON form is not an object of their fields. */
const wellKnown: Record<string, SchemaObject> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" },
  "google.protobuf.FieldMask": { type: "string", description: "Comma-separated field paths in lowerCamelCase." },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array", items: {} },
  "google.protobuf.Any": { type: "object", properties: { "@type": { type: "string" } }, required: ["@type"], additionalProperties: true },
};

export const componentRef = (typeName: string) => `#/components/schemas/${typeName}`;

function behaviorsOf(field: DescField): FieldBehavior[] {
  return getOption(field, field_behavior);
}

export const isRequired = (field: DescField) => behaviorsOf(field).includes(FieldBehavior.REQUIRED);

/** Builds component schemas, keyed by fully-qualified proto name, for every message and enum it is asked about. */
export class SchemaBuilder {
  readonly components: Record<string, SchemaObject> = {};

  constructor(private readonly comments: CommentSource) {}

  /** The schema for a message value: inline for well-known types, else a $ref to its component. */
  message(desc: DescMessage): SchemaObject {
    const wkt = wellKnown[desc.typeName];
    if (wkt !== undefined) return { ...wkt };
    if (isWrapperDesc(desc)) return scalarSchema(desc.fields[0].scalar);
    this.component(desc);
    return { $ref: componentRef(desc.typeName) };
  }

  enum(desc: DescEnum): SchemaObject {
    if (this.components[desc.typeName] === undefined) {
      const lines = desc.values.map((v) => [v.name, this.comments(v)] as const).filter(([, c]) => c !== undefined);
      const list = lines.map(([name, comment]) => `- ${name}: ${comment}`).join("\n");
      const description = [this.comments(desc), list].filter(Boolean).join("\n\n");
      this.components[desc.typeName] = { type: "string", enum: desc.values.map((v) => v.name), ...(description && { description }) };
    }
    return { $ref: componentRef(desc.typeName) };
  }

  /** The component object of a plain message, creating it (and everything it reaches) on first use. */
  component(desc: DescMessage): SchemaObject {
    const existing = this.components[desc.typeName];
    if (existing !== undefined) return existing;
    const schema: SchemaObject = { type: "object", properties: {} };
    this.components[desc.typeName] = schema; // registered before the fields so recursive messages terminate
    return this.describe(desc, schema);
  }

  /** A plain message's object schema, inline: not registered as a component (what it reaches still is). */
  object(desc: DescMessage): SchemaObject {
    return this.describe(desc, { type: "object", properties: {} });
  }

  private describe(desc: DescMessage, schema: SchemaObject): SchemaObject {
    const required: string[] = [];
    for (const field of desc.fields) {
      schema.properties![field.jsonName] = this.property(field);
      if (isRequired(field)) required.push(field.jsonName);
    }
    if (required.length > 0) schema.required = required;
    const oneofs = desc.oneofs.map((o) => `At most one of ${o.fields.map((f) => f.jsonName).join(", ")} is set.`);
    const description = [this.comments(desc), ...oneofs].filter(Boolean).join("\n\n");
    if (description) schema.description = description;
    if (desc.deprecated) schema.deprecated = true;
    return schema;
  }

  /** The schema of one element of a field: the field itself unless it is a list or map. */
  value(field: DescField): SchemaObject {
    if (field.scalar !== undefined) return scalarSchema(field.scalar);
    if (field.enum !== undefined) return this.enum(field.enum);
    return this.message(field.message!);
  }

  /** The schema of a field as a property: with its comment and field_behavior. */
  property(field: DescField): SchemaObject {
    const value = this.value(field);
    const schema: SchemaObject =
      field.fieldKind === "list" ? { type: "array", items: value } : field.fieldKind === "map" ? { type: "object", additionalProperties: value } : value;
    const description = this.comments(field) ?? schema.description;
    if (description !== undefined) schema.description = description;
    const behaviors = behaviorsOf(field);
    if (behaviors.includes(FieldBehavior.OUTPUT_ONLY)) schema.readOnly = true;
    if (behaviors.includes(FieldBehavior.INPUT_ONLY)) schema.writeOnly = true;
    if (field.deprecated) schema.deprecated = true;
    return schema;
  }
}
