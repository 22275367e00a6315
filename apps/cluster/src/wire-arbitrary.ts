import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";

/**
 * Random messages of a given type in wire format, every field written with its own wire type, so
 * they decode and reach the handler, and past it the database: strings with NULs and lone
 * surrogates, numbers at both ends of 64 bits, enum values no one declared, lists and maps.
 */
type Write = (w: BinaryWriter) => void;

const varint = (no: number) =>
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(
    (v): Write =>
      (w) =>
        w.tag(no, WireType.Varint).uint64(v),
  );

function scalar(no: number, type: ScalarType): fc.Arbitrary<Write> {
  switch (type) {
    case ScalarType.STRING:
      return fc.string({ unit: "binary", maxLength: 300 }).map(
        (v): Write =>
          (w) =>
            w.tag(no, WireType.LengthDelimited).string(v),
      );
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 }).map(
        (v): Write =>
          (w) =>
            w.tag(no, WireType.LengthDelimited).bytes(v),
      );
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return fc.double().map(
        (v): Write =>
          (w) =>
            w.tag(no, WireType.Bit64).double(v),
      );
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return fc.float().map(
        (v): Write =>
          (w) =>
            w.tag(no, WireType.Bit32).float(v),
      );
    default:
      return varint(no); // int32/64, uint32/64, sint32/64, bool
  }
}

const nested = (no: number, schema: DescMessage, depth: number) =>
  messageBytes(schema, depth + 1).map(
    (bytes): Write =>
      (w) =>
        w.tag(no, WireType.LengthDelimited).bytes(bytes),
  );

function value(field: DescField, depth: number): fc.Arbitrary<Write> {
  const no = field.number;
  switch (field.fieldKind) {
    case "scalar":
      return scalar(no, field.scalar);
    case "enum":
      return varint(no);
    case "message":
      return nested(no, field.message, depth);
    case "list": {
      const element = field.listKind === "message" ? nested(no, field.message, depth) : field.listKind === "enum" ? varint(no) : scalar(no, field.scalar);
      return fc.array(element, { maxLength: 3 }).map(
        (writes): Write =>
          (w) =>
            writes.forEach((write) => write(w)),
      );
    }
    case "map": {
      const mapValue = field.mapKind === "message" ? nested(2, field.message, depth) : field.mapKind === "enum" ? varint(2) : scalar(2, field.scalar);
      const entry = fc.tuple(scalar(1, field.mapKey), mapValue).map(([k, v]) => write([k, v]));
      return fc.array(entry, { maxLength: 3 }).map(
        (entries): Write =>
          (w) =>
            entries.forEach((e) => w.tag(no, WireType.LengthDelimited).bytes(e)),
      );
    }
  }
}

const write = (writes: readonly (Write | undefined)[]) => {
  const w = new BinaryWriter();
  for (const each of writes) each?.(w);
  return w.finish();
};

export function messageBytes(schema: DescMessage, depth = 0): fc.Arbitrary<Uint8Array> {
  if (depth > 2) return fc.constant(new Uint8Array()); // recursive types (Struct, Value) end here
  return fc.tuple(...schema.fields.map((f) => fc.option(value(f, depth), { nil: undefined }))).map(write);
}

/**
 * Fields of any number and wire type: unknown fields, and known ones with the wrong wire type,
 * which some decoders take and some refuse.
 */
export const anyFields: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc
      .integer({ min: 1, max: 20 })
      .chain((no) => fc.oneof(varint(no), scalar(no, ScalarType.STRING), scalar(no, ScalarType.DOUBLE), scalar(no, ScalarType.FLOAT))),
    { maxLength: 8 },
  )
  .map(write);
