/**
 * Tracked units and reports through the whole cluster, as an outside client sees them: REST
 * through the edge to inventory, which checks places with the real warehouse service. A pallet of
 * cases of units is moved and read back; cycles are tried from two clients at once; and the
 * movement report and its CSV download (a real text/csv response) are compared with the ledger.
 */
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(() => cluster?.stop());

let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const code = (prefix: string) => unique(prefix).toUpperCase().slice(-32);

async function ok(method: string, path: string, body?: unknown) {
  const res = await cluster.rest(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

async function site() {
  const warehouse = await ok("POST", "/v1/warehouses", { code: code("UNIT"), name: "Units here" });
  const type = await ok("POST", "/v1/location-types", { code: code("DOCK"), name: "Dock" });
  const dock = await ok("POST", `/v1/warehouses/${warehouse["id"]}/locations`, { code: code("D"), locationTypeId: type["id"] });
  return { warehouse, dock };
}

async function newItem() {
  const type = await ok("POST", "/v1/item-types", { name: unique("Unit type") });
  return ok("POST", "/v1/items", { sku: unique("TU"), name: 'Laptop, 14" — ünïcode', itemTypeId: type["id"] });
}

describe("tracked units through the edge", () => {
  it("a pallet of cases of units moves as one, and every unit reads back at the new place", async () => {
    const [a, b] = [await site(), await site()];
    const item = await newItem();
    const unit = (over: Record<string, unknown>) => ok("POST", "/v1/tracked-units", { itemId: item["id"], ...over });
    const pallet = await unit({ warehouseId: a.warehouse["id"], label: "PALLET-1" });
    const inside: string[] = [];
    for (let c = 0; c < 3; c++) {
      const kase = await unit({ parentUnitId: pallet["id"], label: `CASE-${c}` });
      inside.push(kase["id"]);
      for (let u = 0; u < 3; u++) inside.push((await unit({ parentUnitId: kase["id"], serialNumber: unique("SN") }))["id"]);
    }

    const moved = await ok("POST", `/v1/tracked-units/${pallet["id"]}:move`, {
      toWarehouseId: b.warehouse["id"],
      toLocationId: b.dock["id"],
      notes: "cross-dock",
    });
    expect(moved).toMatchObject({ move: { cause: "UNIT_MOVE_CAUSE_DIRECT" }, carriedUnitCount: "12" });
    for (const id of [pallet["id"], ...inside]) {
      expect(await ok("GET", `/v1/tracked-units/${id}`)).toMatchObject({ warehouseId: b.warehouse["id"], locationId: b.dock["id"], rootUnitId: pallet["id"] });
    }
    const listed = await ok("GET", `/v1/tracked-units?insideUnitId=${pallet["id"]}&pageSize=100`);
    expect(listed["trackedUnits"]).toHaveLength(12);
    const records = await ok("GET", `/v1/unit-moves?originMoveId=${moved["move"].id}&pageSize=100`);
    expect(records["moves"]).toHaveLength(13);

    // A move to a place that does not exist leaves everything where it was.
    const refused = await cluster.rest("POST", `/v1/tracked-units/${pallet["id"]}:move`, { toWarehouseId: "0190a0a0-0000-7000-8000-00000000dead" });
    expect(refused.status).toBe(400);
    expect(refused.body["error"]).toMatchObject({ code: "FAILED_PRECONDITION" });
    expect(await ok("GET", `/v1/tracked-units/${inside[5]}`)).toMatchObject({ warehouseId: b.warehouse["id"] });
  });

  it("two clients putting A into B and B into A at the same moment: never both", async () => {
    const { warehouse } = await site();
    const item = await newItem();
    for (let round = 0; round < 5; round++) {
      const [x, y] = [
        await ok("POST", "/v1/tracked-units", { itemId: item["id"], warehouseId: warehouse["id"] }),
        await ok("POST", "/v1/tracked-units", { itemId: item["id"], warehouseId: warehouse["id"] }),
      ];
      const [one, other] = await Promise.all([
        cluster.rest("POST", `/v1/tracked-units/${x["id"]}:assign`, { parentUnitId: y["id"] }),
        cluster.rest("POST", `/v1/tracked-units/${y["id"]}:assign`, { parentUnitId: x["id"] }),
      ]);
      const statuses = [one.status, other.status].sort();
      expect(statuses).toEqual([200, 400]);
      const loser = one.status === 400 ? one : other;
      expect(loser.body["error"]).toMatchObject({ reason: "UNIT_CYCLE", details: { field: "parent_unit_id" } });
    }
  });
});

describe("reports through the edge", () => {
  it("the movement report and its CSV download agree with the ledger", async () => {
    const { warehouse } = await site();
    const item = await newItem();
    const start = new Date().toISOString();
    for (const quantity of [5, 3]) {
      await ok("POST", "/v1/stock-levels:receive", {
        itemId: item["id"],
        warehouseId: warehouse["id"],
        quantity: String(quantity),
        idempotencyKey: unique("k"),
      });
    }
    await ok("POST", "/v1/stock-levels:adjust", {
      itemId: item["id"],
      warehouseId: warehouse["id"],
      delta: "-2",
      reason: 'broken, "badly"',
      idempotencyKey: unique("k"),
    });
    const end = new Date(Date.now() + 1000).toISOString();
    const ledger = (await ok("GET", `/v1/movements?itemId=${item["id"]}`))["movements"] as Record<string, string>[];
    expect(ledger).toHaveLength(3);

    const report = await ok("GET", `/v1/reports/movements?startTime=${start}&endTime=${end}&itemId=${item["id"]}&fresh=true`);
    expect(report["rows"].map((r: Record<string, string>) => r["recordId"])).toEqual(ledger.map((m) => m["id"]));

    const res = await fetch(`${cluster.baseUrl}/v1/reports:export`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: cluster.authorization },
      body: JSON.stringify({ movements: { startTime: start, endTime: end, itemId: item["id"] } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="movements-\d{8}T\d{6}Z\.csv"/);
    expect(res.headers.get("x-total-rows")).toBe("3");
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r["record_id"], r["delta"], r["on_hand_after"], r["reason"], r["item_name"]])).toEqual(
      ledger.map((m) => [m["id"], m["delta"], m["onHandAfter"], m["reason"], item["name"]]),
    );

    // Bad input: an end before the start is a 400 with the error body, not a file.
    const bad = await cluster.rest("POST", "/v1/reports:export", { movements: { startTime: end, endTime: start } });
    expect(bad.status).toBe(400);
    expect(bad.body["error"]).toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
