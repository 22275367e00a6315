import { describe, expect, it } from "vitest";
import type { ProcessDeclaration } from "./catalog.js";
import { internalServices, processOf, publicServices, serviceProcesses } from "./descriptors.js";
import { processes } from "./index.js";
import { catalogGaps, type ProtoService } from "./proto-services.js";

describe("the catalog bound to the generated descriptors", () => {
  it("binds every declared service, in catalog order, to the generated descriptor of that name", () => {
    expect(serviceProcesses.map((p) => [p.name, p.grpcPort, p.services.map((s) => s.typeName)])).toEqual(
      processes.map((p) => [p.name, p.grpcPort, p.services.map((s) => s.typeName)]),
    );
    for (const p of serviceProcesses) for (const s of p.services) expect(s.kind).toBe("service");
  });

  it("splits public from internal as declared, and finds the process of each", () => {
    const declared = (v: string) => processes.flatMap((p) => p.services.filter((s) => s.visibility === v).map((s) => s.typeName));
    expect(publicServices.map((s) => s.typeName)).toEqual(declared("public"));
    expect(internalServices.map((s) => s.typeName)).toEqual(declared("internal"));
    expect(internalServices.map((s) => s.typeName)).toContain("inventory.v1.HoldService");
    for (const s of [...publicServices, ...internalServices]) expect(processOf(s).services).toContain(s);
  });
});

describe("catalogGaps: where the catalog and proto/ disagree", () => {
  const catalog: ProcessDeclaration<string>[] = [
    { name: "shop", grpcPort: 1, databaseSchema: null, services: [{ typeName: "shop.v1.CartService", visibility: "public" }] },
  ];
  const found: ProtoService[] = [
    { typeName: "shop.v1.CartService", file: "shop/v1/cart.proto" },
    { typeName: "grpc.health.v1.Health", file: "grpc/health/v1/health.proto" },
  ];

  it("finds none when every service is declared once (platform contracts aside)", () => {
    expect(catalogGaps(catalog, found)).toEqual([]);
  });

  it("names a service a proto file defines that no process serves", () => {
    const more = [...found, { typeName: "shop.v1.PaymentService", file: "shop/v1/payment.proto" }];
    expect(catalogGaps(catalog, more)).toEqual(["shop.v1.PaymentService (shop/v1/payment.proto) is served by no process in the catalog"]);
  });

  it("names a declared service no proto file defines, and one declared twice", () => {
    const typo = [{ ...catalog[0]!, services: [{ typeName: "shop.v1.CardService", visibility: "public" as const }] }];
    expect(catalogGaps(typo, found)).toEqual([
      "shop.v1.CardService (catalog: shop) is defined by no proto file",
      "shop.v1.CartService (shop/v1/cart.proto) is served by no process in the catalog",
    ]);
    const twice = [...catalog, { ...catalog[0]!, name: "till" }];
    expect(catalogGaps(twice, found)).toEqual(["shop.v1.CartService is declared by more than one process: shop, till"]);
  });
});
