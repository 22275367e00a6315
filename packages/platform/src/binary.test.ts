import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, type DescField, type DescMessage, fromBinary, ScalarType, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { WireType } from "@bufbuild/protobuf/wire";
import { AuditEventSchema } from "@inv/gen/user/v1/audit_pb";
import { WarehouseSchema } from "@inv/gen/warehouse/v1/warehouse_pb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeBinary } from "./binary.js";

// Every message type of the contracts, with everything they import (google.api, google.rpc, the
// well-known types), from the descriptor set buf built.
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(fileURLToPath(import.meta.resolve("@inv/gen/descriptors.binpb")))));
const schemas = [...registry].filter((t): t is DescMessage => t.kind === "message");

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Any string, lone surrogates included (both encoders turn those into U+FFFD). */
const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
  fc.string({ unit: "grapheme", minLength: 40, maxLength: 400 }),
);

function scalarOf(type: ScalarType, longAsString: boolean): fc.Arbitrary<unknown> {
  const long = (min: bigint, max: bigint) => fc.bigInt({ min, max }).map((v) => (longAsString ? v.toString() : v));
  switch (type) {
    case ScalarType.STRING:
      return anyString;
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 300 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.integer({ min: 0, max: 0xffffffff });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(INT64_MIN, INT64_MAX);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(0n, UINT64_MAX);
  }
}

function mapKeyOf(type: ScalarType): fc.Arbitrary<string> {
  if (type === ScalarType.STRING) return fc.string({ maxLength: 20 });
  if (type === ScalarType.BOOL) return fc.constantFrom("true", "false");
  return scalarOf(type, true).map(String);
}

const isStruct = (desc: DescMessage) => desc.typeName === "google.protobuf.Struct";

/** A field's value, or undefined for an unset one. */
function fieldOf(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarOf(field.scalar, field.longAsString);
    case "enum":
      return fc.oneof(fc.constantFrom(...field.enum.values.map((v) => v.number)), fc.integer({ min: -5, max: 1000 }));
    case "message":
      if (depth <= 0) return fc.constant(undefined);
      // Held as a plain JSON object in a message field, except inside google.protobuf.Value.
      if (isStruct(field.message) && field.parent.typeName !== "google.protobuf.Value")
        return fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), { nil: undefined });
      return fc.option(messageOf(field.message, depth - 1), { nil: undefined });
    case "list":
      if (field.listKind === "message") return depth <= 0 ? fc.constant([]) : fc.array(messageOf(field.message, depth - 1), { maxLength: 3 });
      return fc.array(field.listKind === "enum" ? fc.integer({ min: -3, max: 300 }) : scalarOf(field.scalar, field.longAsString), { maxLength: 5 });
    case "map": {
      const value =
        field.mapKind === "message"
          ? depth <= 0
            ? undefined
            : messageOf(field.message, depth - 1)
          : field.mapKind === "enum"
            ? fc.integer({ min: 0, max: 5 })
            : scalarOf(field.scalar, false);
      return value ? fc.dictionary(mapKeyOf(field.mapKey), value, { maxKeys: 3 }) : fc.constant({});
    }
  }
}

/** A message of the type, as protobuf-es holds it: made by create(), fields set or not, sometimes with unknown fields. */
function messageOf(desc: DescMessage, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const plain = desc.fields.filter((f) => !f.oneof);
  return fc
    .record({
      fields: fc.tuple(...plain.map((f) => fc.option(fieldOf(f, depth), { nil: undefined, freq: 3 }))),
      oneofs: fc.tuple(
        ...desc.oneofs.map((o) =>
          fc.option(
            fc.integer({ min: 0, max: o.fields.length - 1 }).chain((i) => fieldOf(o.fields[i]!, depth).map((value) => ({ field: o.fields[i]!, value }))),
            { nil: undefined },
          ),
        ),
      ),
      unknown: fc.option(fc.uint8Array({ minLength: 1, maxLength: 4 }), { nil: undefined, freq: 8 }),
    })
    .map(({ fields, oneofs, unknown }) => {
      const message = create(desc) as Record<string, unknown>;
      plain.forEach((f, i) => {
        if (fields[i] !== undefined) message[f.localName] = fields[i];
      });
      desc.oneofs.forEach((o, i) => {
        const chosen = oneofs[i];
        if (chosen && chosen.value !== undefined) message[o.localName] = { case: chosen.field.localName, value: chosen.value };
      });
      if (unknown) message["$unknown"] = [{ no: 18_999, wireType: WireType.LengthDelimited, data: Uint8Array.of(unknown.length, ...unknown) }];
      return message;
    });
}

/** encodeBinary writes what toBinary writes, or throws where it throws (a proto2 required field unset). */
function same(desc: DescMessage, message: Record<string, unknown>): void {
  let expected: string;
  try {
    expected = Buffer.from(toBinary(desc, message as never)).toString("hex");
  } catch {
    expect(() => encodeBinary(desc, message as never)).toThrow();
    return;
  }
  expect(Buffer.from(encodeBinary(desc, message as never)).toString("hex")).toBe(expected);
}

describe("encodeBinary", () => {
  it("knows every message type of the contracts", () => {
    expect(schemas.length).toBeGreaterThan(150);
    expect(schemas.map((s) => s.typeName)).toEqual(expect.arrayContaining(["warehouse.v1.Warehouse", "user.v1.AuditEvent", "google.protobuf.Struct"]));
  });

  it("writes the bytes toBinary writes for the empty message of every type", () => {
    for (const desc of schemas) same(desc, create(desc) as Record<string, unknown>);
  });

  it("writes the bytes toBinary writes for any message of any type (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...schemas).chain((desc) => messageOf(desc, 3).map((message) => ({ desc, message }))),
        ({ desc, message }) => same(desc, message),
      ),
      { numRuns: 1500 },
    );
  });

  it("writes the bytes toBinary writes for messages with large parts: long strings, nested messages over 127 bytes, 64-bit extremes", () => {
    const warehouse = create(WarehouseSchema, {
      id: "x".repeat(300),
      name: "é".repeat(100),
      address: { line1: "a".repeat(200), city: "🏭".repeat(50), countryCode: "NL" },
      priority: -1,
    });
    same(WarehouseSchema, warehouse as never);
    const event = create(AuditEventSchema, {
      id: "e",
      occurTime: { seconds: INT64_MAX, nanos: -1 },
      details: { big: "x".repeat(20_000), list: [1, "two", null, { three: [true] }], nested: { deeper: { deepest: -0 } }, $typeName: "not a message" },
    });
    same(AuditEventSchema, event as never);
    expect(fromBinary(AuditEventSchema, encodeBinary(AuditEventSchema, event))).toEqual(event);
  });

  it("refuses what toBinary refuses: an int32 out of range, a float beyond float32", () => {
    const wrong = create(WarehouseSchema, { priority: 2 ** 31 });
    expect(() => toBinary(WarehouseSchema, wrong)).toThrow();
    expect(() => encodeBinary(WarehouseSchema, wrong)).toThrow(/int32/);
  });
});
