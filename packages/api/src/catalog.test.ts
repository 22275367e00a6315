import { getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "@inv/gen/google/api/annotations_pb";
import { required_permission } from "@inv/gen/user/v1/options_pb";
import { describe, expect, it } from "vitest";
import { processOf, publicServices, serviceProcesses } from "./index.js";

const PERMISSION = /^(public|authenticated|[a-z]+(\.[a-z]+)+)$/;

describe("the service catalog and its contracts", () => {
  it("puts every service in exactly one process, each on its own port", () => {
    expect(new Set(publicServices).size).toBe(publicServices.length);
    expect(new Set(serviceProcesses.map((p) => p.defaultPort)).size).toBe(serviceProcesses.length);
    for (const service of publicServices) expect(processOf(service).services).toContain(service);
  });

  it.each(publicServices.flatMap((s) => s.methods.map((m) => [`${s.typeName}/${m.name}`, m] as const)))(
    "%s has an http rule and declares the permission it needs",
    (_name, method) => {
      expect(hasOption(method, http)).toBe(true);
      expect(getOption(method, required_permission)).toMatch(PERMISSION);
    },
  );

  it("only reads are marked free of side effects, so only they are retried", () => {
    for (const service of publicServices) {
      for (const method of service.methods) {
        if (method.idempotency !== 0) expect(method.name).toMatch(/^(Get|List|Lookup|Check|Watch|Introspect)/);
      }
    }
  });
});
