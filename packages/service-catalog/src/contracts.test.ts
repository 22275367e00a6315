import { getOption, hasOption } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { http } from "@inv/gen/google/api/annotations_pb";
import { required_permission } from "@inv/gen/user/v1/options_pb";
import { describe, expect, it } from "vitest";
import { internalServices, publicServices } from "./descriptors.js";

const PERMISSION = /^(public|authenticated|[a-z]+(\.[a-z]+)+)$/;
const methodsOf = (services: typeof publicServices) => services.flatMap((s) => s.methods.map((m) => [`${s.typeName}/${m.name}`, m] as const));

describe("the contracts of the catalog's services", () => {
  it.each(methodsOf(publicServices))("public %s has an http rule and declares the permission it needs", (_name, method) => {
    expect(hasOption(method, http)).toBe(true);
    expect(getOption(method, required_permission)).toMatch(PERMISSION);
  });

  it.each(methodsOf(internalServices))("internal %s has no http rule, so no REST route", (_name, method) => {
    expect(hasOption(method, http)).toBe(false);
  });

  it("only reads are marked free of side effects", () => {
    for (const [name, method] of methodsOf([...publicServices, ...internalServices])) {
      if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS)
        expect(method.name, name).toMatch(/^(Get|List|Lookup|Search|Check|Watch|Export|Introspect)/);
    }
  });
});
