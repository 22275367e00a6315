/** Hostile JSON bodies: each is refused with a TranscodeError naming the rule, never a crash. */
import { describe, expect, it } from "vitest";
import { TranscodeError } from "./errors.js";
import { checkJsonText, MAX_JSON_DEPTH } from "./json-text.js";
import { parseJsonBody } from "./request.js";

function faultOf(body: string | Uint8Array) {
  try {
    parseJsonBody(body);
  } catch (err) {
    expect(err).toBeInstanceOf(TranscodeError);
    const { field, constraint, message } = err as TranscodeError;
    return { field, constraint, message };
  }
  throw new Error("accepted");
}

describe("parseJsonBody on hostile bodies", () => {
  it("refuses JSON nested 100,000 levels deep, in arrays, objects or inside a field, before parsing it", () => {
    expect(faultOf("[".repeat(100_000) + "]".repeat(100_000))).toMatchObject({ constraint: "depth", field: undefined });
    expect(faultOf(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`).constraint).toBe("depth");
    expect(faultOf(`{"warehouse":${"[".repeat(100_000)}`).constraint).toBe("depth"); // even unterminated
  });

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1}`, () => {
    const nested = (n: number) => "[".repeat(n) + "]".repeat(n);
    expect(parseJsonBody(nested(MAX_JSON_DEPTH))).toBeInstanceOf(Array);
    expect(faultOf(nested(MAX_JSON_DEPTH + 1)).message).toBe(`request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const inString = `{"a":"${"[".repeat(500)}\\"${"{".repeat(500)}"}`;
    expect(parseJsonBody(inString)).toEqual({ a: `${"[".repeat(500)}"${"{".repeat(500)}` });
  });

  it("refuses invalid UTF-8 instead of replacing it with U+FFFD", () => {
    expect(faultOf(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).toMatchObject({
      constraint: "encoding",
      message: "request body is not valid UTF-8",
    });
    expect(faultOf(Buffer.from([0x22, 0xc3, 0x22])).constraint).toBe("encoding"); // a truncated sequence
    expect(parseJsonBody(Buffer.from('{"city":"Zürich"}'))).toEqual({ city: "Zürich" });
  });

  it("refuses a key given twice in one object, naming where, and resolves escapes before comparing", () => {
    expect(faultOf('{"code":"A","code":"B"}')).toMatchObject({ constraint: "duplicate_key", field: "code" });
    expect(faultOf('{"code":"A","\\u0063ode":"B"}')).toMatchObject({ constraint: "duplicate_key", field: "code" });
    expect(faultOf('{"warehouse":{"address":{"city":"A","city":"B"}}}').field).toBe("warehouse.address.city");
    expect(faultOf('{"items":[{"a":1},{"a":1,"a":2}]}').field).toBe("items[1].a");
    expect(parseJsonBody('{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}')).toBeDefined(); // same key in sibling objects is fine
  });

  it("names the place under the field the body is, when the rule's body is a field", () => {
    const fieldOf = (bodyField: string) => {
      try {
        parseJsonBody('{"code":"A","code":"B"}', bodyField);
      } catch (err) {
        return (err as TranscodeError).field;
      }
    };
    expect(fieldOf("warehouse")).toBe("warehouse.code");
    expect(fieldOf("*")).toBe("code");
    expect(fieldOf("")).toBe("code");
  });

  it("refuses __proto__ keys, which a map field would silently drop", () => {
    expect(faultOf('{"__proto__":{"x":1}}')).toMatchObject({ constraint: "forbidden_key", field: "__proto__" });
    expect(faultOf('{"metadata":{"__proto__":"x"}}').field).toBe("metadata.__proto__");
    expect(parseJsonBody('{"constructor":1,"toString":"x"}')).toEqual({ constructor: 1, toString: "x" }); // left to the unknown-field check
  });

  it("refuses NUL in strings, escaped or raw, but not an escaped backslash before u0000", () => {
    expect(faultOf('{"name":"a\\u0000b"}')).toMatchObject({ constraint: "nul_character", field: "name" });
    expect(faultOf('{"tags":["x","\\u0000"]}').field).toBe("tags[1]");
    expect(faultOf('{"name":"a\u0000b"}').constraint).toBe("malformed_json"); // raw control characters are not JSON
    expect(parseJsonBody('{"name":"a\\\\u0000b"}')).toEqual({ name: "a\\u0000b" });
  });

  it("treats an empty or blank body as none, and anything else that is not JSON as malformed", () => {
    expect(parseJsonBody("")).toBeUndefined();
    expect(parseJsonBody(" \n\t")).toBeUndefined();
    expect(parseJsonBody(new Uint8Array())).toBeUndefined();
    expect(faultOf("{").constraint).toBe("malformed_json");
    expect(faultOf("nope").constraint).toBe("malformed_json");
    expect(faultOf("{}{}").constraint).toBe("malformed_json");
  });

  it("parses JSON that is not an object as it is (buildRequest decides), huge numbers as Infinity", () => {
    expect(parseJsonBody("[1,2]")).toEqual([1, 2]);
    expect(parseJsonBody("null")).toBeNull();
    expect(parseJsonBody('"x"')).toBe("x");
    expect(parseJsonBody(`{"n":1${"0".repeat(400)}}`)).toEqual({ n: Infinity });
  });

  it("checks a megabyte of flat JSON in one linear pass", () => {
    const big = JSON.stringify({ tags: Array.from({ length: 60_000 }, (_, i) => `t${i}`) });
    const started = performance.now();
    checkJsonText(big);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
