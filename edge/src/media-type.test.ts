import { describe, expect, it } from "vitest";
import { EdgeError, httpStatusOf } from "./http-errors.js";
import { assertJsonMediaType } from "./media-type.js";

const refusal = (header: string | undefined) => {
  try {
    assertJsonMediaType(header);
  } catch (err) {
    expect(err).toBeInstanceOf(EdgeError);
    return { status: httpStatusOf(err as EdgeError), violation: (err as EdgeError).violation };
  }
  return undefined;
};

describe("assertJsonMediaType", () => {
  it.each([
    undefined,
    "",
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    'application/json;charset="UTF-8"',
    "application/json; charset=utf8",
    "application/merge-patch+json",
  ])("accepts %j", (header) => expect(refusal(header)).toBeUndefined());

  it("refuses another media type with 415, naming it", () => {
    expect(refusal("text/plain")).toEqual({ status: 415, violation: { field: "content-type", value: "text/plain", constraint: "media_type" } });
    expect(refusal("application/x-www-form-urlencoded")?.status).toBe(415);
  });

  it("refuses JSON in a charset other than UTF-8 with 415, rather than misreading it", () => {
    expect(refusal("application/json; charset=latin1")).toEqual({ status: 415, violation: { field: "content-type", value: "latin1", constraint: "charset" } });
    expect(refusal("application/json; charset=utf-16")?.status).toBe(415);
  });
});
