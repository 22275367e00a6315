/**
 * The warehouse service's audit trail: every mutating call leaves one record (success, denial or
 * failure) in its outbox, in the same transaction as the change, and the relay ships it.
 */
import { status } from "@grpc/grpc-js";
import { AuditOutcome, PrincipalKind, type AuditEvent } from "@inv/gen/user/v1/audit_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import type { RemoteError } from "@inv/platform";
import { startTestService, type TestService, propertyRuns } from "@inv/platform/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nothingStored, warehouseDefinition } from "./index.js";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService(warehouseDefinition({ stock: () => nothingStored }));
});
afterAll(() => svc?.stop());

const METHOD = "/warehouse.v1.WarehouseService/";

/** The shipped records of one request id, once the relay has delivered `count` of them. */
async function recordsOf(requestId: string, count = 1): Promise<AuditEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = svc.auditEvents.filter((e) => e.requestId === requestId);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
}

let n = 0;
const requestId = () => `audit-test-${++n}-${Date.now()}`;
const call = <T>(p: Promise<T>) => p.catch((e: unknown) => e as RemoteError);

describe("audit records", () => {
  it("records a successful change with who, what, which resource and the request id", async () => {
    const id = requestId();
    const created = await svc.client(WarehouseService).createWarehouse({ warehouse: { code: "AUD-1", name: "Audited" } }, { metadata: { "x-request-id": id } });
    const [record, ...more] = await recordsOf(id);
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      service: "warehouse",
      method: `${METHOD}CreateWarehouse`,
      permission: "warehouse.write",
      outcome: AuditOutcome.SUCCESS,
      statusCode: "OK",
      resourceType: "Warehouse",
      resourceId: created.warehouse!.id,
      actorKind: PrincipalKind.USER,
      actorName: "test-admin",
      details: { code: "AUD-1" },
    });
    expect(record!.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("records a refusal, and the change does not happen", async () => {
    const viewer = await svc.authority.issue({ permissions: ["warehouse.read"], username: "vic" });
    const id = requestId();
    const client = svc.clientWith(WarehouseService, { authorization: `Bearer ${viewer}`, "x-request-id": id });
    const err = await call(client.createWarehouse({ warehouse: { code: "AUD-DENIED", name: "No" } }));
    expect(err).toMatchObject({ code: status.PERMISSION_DENIED });
    const [record] = await recordsOf(id);
    expect(record).toMatchObject({ outcome: AuditOutcome.DENIED, statusCode: "PERMISSION_DENIED", actorName: "vic", method: `${METHOD}CreateWarehouse` });
    const { warehouses } = await svc.client(WarehouseService).listWarehouses({ code: "AUD-DENIED" });
    expect(warehouses).toEqual([]);
  });

  it("records an anonymous refusal as a denial too", async () => {
    const id = requestId();
    const err = await call(svc.clientWith(WarehouseService, { "x-request-id": id }).deleteWarehouse({ id: "00000000-0000-7000-8000-000000000001" }));
    expect(err).toMatchObject({ code: status.UNAUTHENTICATED });
    expect((await recordsOf(id))[0]).toMatchObject({ outcome: AuditOutcome.DENIED, actorKind: PrincipalKind.ANONYMOUS, statusCode: "UNAUTHENTICATED" });
  });

  it("records a failed change as a failure, with the error the caller saw, and no success", async () => {
    const client = svc.client(WarehouseService);
    const { warehouse } = await client.createWarehouse({ warehouse: { code: "AUD-2", name: "Two" } });
    const id = requestId();
    const err = await call(client.updateWarehouse({ warehouse: { id: warehouse!.id, name: "x", etag: "stale" } }, { metadata: { "x-request-id": id } }));
    expect(err).toMatchObject({ code: status.ABORTED });
    const records = await recordsOf(id);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: AuditOutcome.FAILURE, statusCode: "ABORTED", errorMessage: (err as RemoteError).message });
  });

  it("records nothing for reads", async () => {
    const id = requestId();
    await svc.client(WarehouseService).listWarehouses({}, { metadata: { "x-request-id": id } });
    const marker = requestId();
    await svc.client(WarehouseService).createWarehouse({ warehouse: { code: "AUD-3", name: "Marker" } }, { metadata: { "x-request-id": marker } });
    await recordsOf(marker); // shipped after the read, so the read's record would have come first
    expect(svc.auditEvents.filter((e) => e.requestId === id)).toEqual([]);
  });
});

describe("Property 16: Comprehensive Audit Logging", () => {
  type Caller = "admin" | "viewer" | "anonymous" | "revoked";
  type Op = "create" | "update" | "delete" | "get" | "list";
  const expected: { requestId: string; op: Op; caller: Caller; code: status }[] = [];

  it("leaves exactly one record for every change and every refusal, with how it ended, and none for allowed reads", async () => {
    const viewer = await svc.authority.issue({ permissions: ["warehouse.read"] });
    const revoked = await svc.authority.issue({ permissions: ["*"] });
    svc.authority.revoke(revoked);
    const metadataOf: Record<Caller, Record<string, string>> = {
      admin: { authorization: `Bearer ${svc.adminToken}` },
      viewer: { authorization: `Bearer ${viewer}` },
      anonymous: {},
      revoked: { authorization: `Bearer ${revoked}` },
    };
    const { warehouse: existing } = await svc.client(WarehouseService).createWarehouse({ warehouse: { code: "P16-BASE", name: "Base" } });
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Op>("create", "update", "delete", "get", "list"),
        fc.constantFrom<Caller>("admin", "viewer", "anonymous", "revoked"),
        fc.boolean(),
        async (op, caller, valid) => {
          const id = `p16-${++seq}-${Date.now()}`;
          const client = svc.clientWith(WarehouseService, { ...metadataOf[caller], "x-request-id": id });
          const target = valid ? existing!.id : "not-a-uuid";
          const calls: Record<Op, () => Promise<unknown>> = {
            create: () => client.createWarehouse({ warehouse: { code: valid ? `P16-${seq}` : "bad code", name: "P16" } }),
            update: () => client.updateWarehouse({ warehouse: { id: target, name: `renamed ${seq}` } }),
            delete: () => client.deleteWarehouse({ id: valid ? "00000000-0000-7000-8000-00000000dead" : target }),
            get: () => client.getWarehouse({ id: target }),
            list: () => client.listWarehouses({}),
          };
          const code = await calls[op]().then(
            () => status.OK,
            (err: unknown) => (err as RemoteError).code,
          );
          expected.push({ requestId: id, op, caller, code });
        },
      ),
      { numRuns: propertyRuns(120) },
    );

    const writes = new Set<Op>(["create", "update", "delete"]);
    const recorded = (e: (typeof expected)[number]) => writes.has(e.op) || e.code === status.UNAUTHENTICATED || e.code === status.PERMISSION_DENIED;
    const last = expected.filter(recorded).at(-1);
    if (last) await recordsOf(last.requestId);
    await new Promise((r) => setTimeout(r, 200)); // anything else the relay has in flight

    for (const call of expected) {
      const records = svc.auditEvents.filter((e) => e.requestId === call.requestId);
      const label = `${call.op} as ${call.caller} → ${status[call.code]}`;
      if (!recorded(call)) {
        expect(records, label).toEqual([]);
        continue;
      }
      expect(records, label).toHaveLength(1);
      const outcome =
        call.code === status.OK
          ? AuditOutcome.SUCCESS
          : call.code === status.UNAUTHENTICATED || call.code === status.PERMISSION_DENIED
            ? AuditOutcome.DENIED
            : AuditOutcome.FAILURE;
      expect({ outcome: records[0]!.outcome, statusCode: records[0]!.statusCode }, label).toEqual({ outcome, statusCode: status[call.code] });
      expect(records[0]!.actorKind, label).toBe(call.caller === "admin" || call.caller === "viewer" ? PrincipalKind.USER : PrincipalKind.ANONYMOUS);
    }
  });
});
