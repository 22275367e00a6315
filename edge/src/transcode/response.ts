import { create, toJson, type DescMethod, type JsonObject, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { findField, isPlainMessage } from "./fields.js";
import type { HttpBinding } from "./routes.js";

/**
 * Renders a method's output message as the REST response body: proto JSON with lowerCamelCase
 * names and enum names, the field named by response_body selected when the rule has one.
 *
 * Fields with implicit presence at their default (0, "", false, empty lists) are omitted
 * (alwaysEmitImplicit: false), as the proto3 JSON mapping and gRPC gateways do: it keeps
 * payloads small and a client cannot tell an omitted default from an explicit one in proto3
 * anyway. The OpenAPI document therefore never lists such fields as required.
 * Server-streaming methods call this once per message.
 */
export function renderResponse(method: DescMethod, rule: HttpBinding, message: Message, options?: { registry?: Registry }): JsonValue {
  if (message.$typeName !== method.output.typeName) {
    throw new Error(`${method.parent.typeName}.${method.name} returned ${message.$typeName}, not ${method.output.typeName}`);
  }
  const json = toJson(method.output, message, { registry: options?.registry }) as JsonObject;
  if (rule.responseBody === "") return json;
  const field = findField(method.output, rule.responseBody);
  if (field === undefined) throw new Error(`response_body "${rule.responseBody}" is not a field of ${method.output.typeName}`);
  const selected = json[field.jsonName];
  if (selected !== undefined) return selected;
  // The selected field was omitted as a default: answer with that default rather than nothing.
  switch (field.fieldKind) {
    case "list":
      return [];
    case "map":
      return {};
    case "message":
      return isPlainMessage(field.message) ? {} : null;
    default: {
      const full = toJson(method.output, message, { registry: options?.registry, alwaysEmitImplicit: true }) as JsonObject;
      return full[field.jsonName] ?? null;
    }
  }
}
