/**
 * A contract's row message as a CSV record, for csvDownload: the columns and the cells of a report
 * row come from its message, so an export and the report's messages keep the same shape.
 */
import { create, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/** Which fields are flattened into columns of their own: messages other than a timestamp. */
const isNested = (f: DescField): f is DescField & { fieldKind: "message"; message: DescMessage } =>
  f.fieldKind === "message" && f.message.typeName !== "google.protobuf.Timestamp";

/**
 * The CSV columns of a row message: its fields in declaration order, by their proto (snake_case)
 * names; a nested message other than a timestamp is flattened with its field's name as prefix
 * (LowStockRow's stock_level.on_hand is "stock_level_on_hand").
 */
export function csvColumns(schema: DescMessage, prefix = ""): string[] {
  return schema.fields.flatMap((f) => (isNested(f) ? csvColumns(f.message, `${prefix}${f.name}_`) : [`${prefix}${f.name}`]));
}

/**
 * A row message's cells in csvColumns order: enums by name without their prefix, timestamps in
 * RFC 3339 UTC, integers (int64 too) as numbers, so that csvDownload writes them as numbers, sign
 * and all, and treats only text as text.
 */
export function csvRecord(schema: DescMessage, message: Message): unknown[] {
  const values = message as unknown as Record<string, unknown>;
  return schema.fields.flatMap((f): unknown[] => {
    const value = values[f.localName];
    if (isNested(f)) return csvRecord(f.message, (value as Message | undefined) ?? create(f.message));
    if (f.fieldKind === "enum") return [f.enum.values.find((v) => v.number === value)?.localName ?? String(value)];
    if (f.fieldKind === "message") return [value ? timestampDate(value as Timestamp) : null];
    // proto3 cannot tell an empty string from an unset one: both are an empty field.
    if (value === "") return [null];
    return [value];
  });
}
