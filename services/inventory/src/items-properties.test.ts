/**
 * Properties of the item catalogue, checked over gRPC against a real database: an item type is
 * never deleted while a live item uses it (also under concurrency), the text search finds exactly
 * the items a plain substring match finds, and pages never skip or repeat an item.
 */
import { status } from "@grpc/grpc-js";
import { ItemService, type Item } from "@inv/gen/inventory/v1/item_pb";
import type { GrpcClient, RemoteError } from "@inv/platform";
import { startTestService, type TestService, propertyRuns } from "@inv/platform/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inventoryServiceDefinition } from "./index.js";

let svc: TestService;
let client: GrpcClient<typeof ItemService>;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;

beforeAll(async () => {
  svc = await startTestService(inventoryServiceDefinition);
  client = svc.client(ItemService);
});
afterAll(() => svc?.stop());

const codeOf = async (call: Promise<unknown>) =>
  call.then(
    () => "OK",
    (e: RemoteError) => status[e.code],
  );

const newType = async () => (await client.createItemType({ itemType: { name: unique("Type") } })).itemType!.id;
const newItem = async (itemTypeId: string, more: { name?: string; description?: string; sku?: string } = {}) =>
  (await client.createItem({ item: { sku: unique("SKU"), name: "item", itemTypeId, ...more } })).item!;
const liveItemIds = async (itemTypeId: string) => (await client.listItems({ itemTypeId, pageSize: 500 })).items.map((i) => i.id).sort();

describe("an item type is never deleted while a live item uses it", () => {
  type Command =
    | { op: "create"; type: number }
    | { op: "move"; item: number; type: number }
    | { op: "deleteItem"; item: number }
    | { op: "deleteType"; type: number };
  const TYPES = 3;
  const command = fc.oneof(
    fc.record({ op: fc.constant("create" as const), type: fc.nat(TYPES - 1) }),
    fc.record({ op: fc.constant("move" as const), item: fc.nat(), type: fc.nat(TYPES - 1) }),
    fc.record({ op: fc.constant("deleteItem" as const), item: fc.nat() }),
    fc.record({ op: fc.constant("deleteType" as const), type: fc.nat(TYPES - 1) }),
  );

  it("refuses a type's delete exactly while a live item has it, and any new use of a deleted type", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), async (commands: Command[]) => {
        const types = await Promise.all(Array.from({ length: TYPES }, newType));
        const typeDeleted = types.map(() => false);
        const items: { id: string; type: number; live: boolean }[] = [];
        const inUse = (t: number) => items.some((i) => i.live && i.type === t);

        for (const c of commands) {
          if (c.op === "create") {
            const outcome = await codeOf(newItem(types[c.type]!).then((item) => items.push({ id: item.id, type: c.type, live: true })));
            expect(outcome).toBe(typeDeleted[c.type] ? "FAILED_PRECONDITION" : "OK");
          } else if (c.op === "move") {
            if (items.length === 0) continue;
            const item = items[c.item % items.length]!;
            const outcome = await codeOf(client.updateItem({ item: { id: item.id, itemTypeId: types[c.type]! }, updateMask: { paths: ["item_type_id"] } }));
            expect(outcome).toBe(typeDeleted[c.type] || !item.live ? "FAILED_PRECONDITION" : "OK");
            if (outcome === "OK") item.type = c.type;
          } else if (c.op === "deleteItem") {
            if (items.length === 0) continue;
            const item = items[c.item % items.length]!;
            expect(await codeOf(client.deleteItem({ id: item.id }))).toBe("OK");
            item.live = false;
          } else {
            const outcome = await codeOf(client.deleteItemType({ id: types[c.type]! }));
            expect(outcome).toBe(!typeDeleted[c.type] && inUse(c.type) ? "FAILED_PRECONDITION" : "OK");
            if (outcome === "OK") typeDeleted[c.type] = true;
          }
        }
        // What the service holds is what the model says: live items per type, and no deleted type in use.
        for (let t = 0; t < TYPES; t++) {
          const expected = items
            .filter((i) => i.live && i.type === t)
            .map((i) => i.id)
            .sort();
          expect(await liveItemIds(types[t]!)).toEqual(expected);
          const stored = (await client.getItemType({ id: types[t]! })).itemType!;
          expect(stored.deleteTime !== undefined).toBe(typeDeleted[t]);
          if (typeDeleted[t]) expect(expected).toEqual([]);
        }
      }),
      { numRuns: propertyRuns() },
    );
  });

  it("under concurrency: creates and moves racing a type's delete never leave a live item of a deleted type", async () => {
    for (let round = 0; round < 15; round++) {
      const [type, other] = [await newType(), await newType()];
      const existing = await newItem(other);
      const results = await Promise.allSettled([
        newItem(type),
        client.deleteItemType({ id: type }),
        client.updateItem({ item: { id: existing.id, itemTypeId: type }, updateMask: { paths: ["item_type_id"] } }),
        newItem(type),
      ]);
      const deleted = (await client.getItemType({ id: type })).itemType!.deleteTime !== undefined;
      const live = await liveItemIds(type);
      if (deleted) expect(live).toEqual([]);
      const landed = results.filter((r, i) => i !== 1 && r.status === "fulfilled").length;
      expect(live.length).toBe(landed);
      expect(deleted).toBe(results[1]!.status === "fulfilled");
    }
  });

  it("two creates racing for one SKU: exactly one wins, the others get ALREADY_EXISTS", async () => {
    const type = await newType();
    for (let round = 0; round < 10; round++) {
      const sku = unique("RACE");
      const outcomes = await Promise.all([1, 2, 3].map(() => codeOf(newItem(type, { sku }))));
      expect(outcomes.sort()).toEqual(["ALREADY_EXISTS", "ALREADY_EXISTS", "OK"]);
    }
  });
});

describe("text search", () => {
  it("finds exactly the items whose SKU, name or description contains every word, case-insensitively", async () => {
    // A small alphabet with LIKE's wildcards and escape character, so the words often hit and often miss.
    const alphabet = ["a", "B", "c", "%", "_", "\\", "-", "."];
    const text = (max: number) => fc.string({ unit: fc.constantFrom(...alphabet, " "), maxLength: max });
    const type = await newType();
    const docs = fc.sample(fc.record({ name: text(8), description: text(10) }), { numRuns: 30, seed: 42 });
    const items: Item[] = [];
    for (const d of docs) {
      const name = d.name.trim() || "x";
      items.push(await newItem(type, { name, description: d.description.trim() }));
    }

    const query = fc.array(fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 3 }), { maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom(" ", "  ", "\t"), async (words, sep) => {
        const found = (await client.listItems({ itemTypeId: type, query: words.join(sep), pageSize: 500 })).items.map((i) => i.id);
        const expected = items
          .filter((i) => words.every((w) => [i.sku, i.name, i.description].some((f) => f.toLowerCase().includes(w.toLowerCase()))))
          .map((i) => i.id);
        expect(found).toEqual(expected);
      }),
      { numRuns: propertyRuns() },
    );
  });
});

describe("paging", () => {
  it("pages never skip or repeat an item while others are being created", async () => {
    const type = await newType();
    for (let i = 0; i < 25; i++) await newItem(type);
    const listAll = async (pageSize: number) => {
      const ids: string[] = [];
      let pageToken = "";
      do {
        const page = await client.listItems({ itemTypeId: type, pageSize, pageToken });
        ids.push(...page.items.map((i) => i.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return ids;
    };
    const before = await listAll(500);
    const [paged] = await Promise.all([listAll(4), Promise.all(Array.from({ length: 20 }, () => newItem(type)))]);
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged).toEqual(expect.arrayContaining(before));
    expect([...paged].sort()).toEqual(paged);
  });
});
