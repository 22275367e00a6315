import { toJson, type DescMethod, type JsonObject, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { findField, isPlainMessage } from "./fields.js";
import type { HttpBinding } from "./routes.js";

/**
 * Renders a method's output message as the REST response body: proto JSON with lowerCamelCase
 * names and enum names, the field named by response_body selected when the rule has one.
 *
 * Fields with implicit presence are emitted even at their default (alwaysEmitImplicit: true):
 * REST clients get the same shape every time — an empty list is `[]`, not a missing key, and
 * `nextPageToken: ""` says plainly that there is no next page. Unset message fields and unset
 * `optional` fields are still left out.
 * Server-streaming methods call this once per message.
 */
export function renderResponse(method: DescMethod, rule: HttpBinding, message: Message, options?: { registry?: Registry }): JsonValue {
  if (message.$typeName !== method.output.typeName) {
    throw new Error(`${method.parent.typeName}.${method.name} returned ${message.$typeName}, not ${method.output.typeName}`);
  }
  const toJsonOptions = { registry: options?.registry, alwaysEmitImplicit: true };
  if (rule.responseBody === "") return toJson(method.output, message, toJsonOptions);
  const field = findField(method.output, rule.responseBody);
  if (field === undefined) throw new Error(`response_body "${rule.responseBody}" is not a field of ${method.output.typeName}`);
  if (field.fieldKind === "message" && field.oneof === undefined && isPlainMessage(field.message)) {
    // Only the selected message is rendered: the same JSON as in the whole answer's, without
    // rendering (and dropping) the rest. Other kinds of field are picked from the whole answer.
    const selected = (message as unknown as Record<string, Message | undefined>)[field.localName];
    // An unset message field answers with an empty object rather than nothing.
    return selected === undefined ? {} : toJson(field.message, selected, toJsonOptions);
  }
  const json = toJson(method.output, message, toJsonOptions) as JsonObject;
  const selected = json[field.jsonName];
  if (selected !== undefined) return selected;
  // Only an unset message field is missing: answer with an empty object rather than nothing.
  return field.fieldKind === "message" && isPlainMessage(field.message) ? {} : null;
}
