import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgument } from "./errors.js";
import { fieldsToUpdate, presentIn } from "./field-mask.js";

const fields = {
  mutable: ["name", "address", "priority"],
  nested: { address: ["city", "postal_code"] },
  present: (f: string) => f === "name",
};

const violation = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as InvalidArgument).violation;
  }
  throw new Error("no violation");
};

describe("fieldsToUpdate", () => {
  it("without a mask, takes the mutable fields that have a value (AIP-134)", () => {
    expect(fieldsToUpdate([], fields)).toEqual(["name"]);
    expect(fieldsToUpdate(undefined, fields)).toEqual(["name"]);
  });

  it("with a mask, takes exactly its paths once, sub-fields of nested fields included", () => {
    expect(fieldsToUpdate(["priority", "address.city", "priority"], fields)).toEqual(["priority", "address.city"]);
  });

  it("refuses paths that are not mutable, and updates that change nothing", () => {
    for (const path of ["code", "id", "name.first", "priority.x", "address.nonsense", "etag", ""]) {
      expect(violation(() => fieldsToUpdate([path], fields))).toMatchObject({ field: "update_mask", constraint: "mutable_field" });
    }
    expect(violation(() => fieldsToUpdate([], { ...fields, present: () => false }))).toMatchObject({ field: "update_mask", constraint: "required" });
  });

  it("accepts any mask made of allowed paths, and refuses it once one path is not", () => {
    const allowed = ["name", "address", "priority", "address.city", "address.postal_code"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...allowed), { minLength: 1 }), fc.option(fc.string()), (paths, extra) => {
        expect(fieldsToUpdate(paths, fields)).toEqual([...new Set(paths)]);
        if (extra !== null && !allowed.includes(extra)) expect(() => fieldsToUpdate([...paths, extra], fields)).toThrow(InvalidArgument);
      }),
      { numRuns: 100 },
    );
  });
});

describe("presentIn", () => {
  it("reads presence from a protobuf-es message: non-default values are present", () => {
    const present = presentIn(FieldMaskSchema, create(FieldMaskSchema, { paths: ["a"] }));
    expect(present("paths")).toBe(true);
    expect(present("nonsense")).toBe(false);
    expect(presentIn(FieldMaskSchema, create(FieldMaskSchema))("paths")).toBe(false);
  });
});
