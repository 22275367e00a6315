/**
 * ItemService over gRPC against a real database: item types and items, their field rules, the
 * contract patterns (etags, request ids, field masks), the list filters and what blocks a delete.
 */
import { toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { AuditOutcome } from "@inv/gen/user/v1/audit_pb";
import { ItemCategory, ItemSchema, ItemService, ItemStatus, type Item, type ItemType } from "@inv/gen/inventory/v1/item_pb";
import type { RemoteError, Db, GrpcClient } from "@inv/platform";
import { startTestService, type TestService, failure } from "@inv/platform/testing";
import { eq } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inventoryServiceDefinition } from "./index.js";
import { movements, stockLevels } from "./store/schema.js";

let svc: TestService;
let client: GrpcClient<typeof ItemService>;
/** The service's own database, for setting up stock the item rules must respect. */
let db: Db;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;
const MISSING = "0190a0a0-0000-7000-8000-00000000dead";

beforeAll(async () => {
  svc = await startTestService(inventoryServiceDefinition);
  db = svc.db;
  client = svc.client(ItemService);
});
afterAll(() => svc?.stop());

const newType = async (name = unique("Type"), category = ItemCategory.UNSPECIFIED): Promise<ItemType> =>
  (await client.createItemType({ itemType: { name, category } })).itemType!;
type ItemInit = MessageInitShape<typeof ItemSchema>;
const newItem = async (itemTypeId: string, more: ItemInit = {}): Promise<Item> =>
  (await client.createItem({ item: { sku: unique("SKU"), name: "An item", itemTypeId, ...more } })).item!;
const liveBySkus = async (...skus: string[]) => (await client.listItems({ skus, pageSize: 500 })).items;

/** Gives the item a stock level with `onHand` on hand, as the stock writers would: the level and its ledger entry in one transaction. */
async function putStock(item: Item, onHand: number) {
  const levelId = uuidv7();
  const warehouseId = uuidv7();
  await db.transaction(async (tx) => {
    await tx.insert(stockLevels).values({ id: levelId, itemId: item.id, sku: item.sku, warehouseId, onHand, sequence: 1 });
    await tx.insert(movements).values({
      id: uuidv7(),
      kind: 1, // RECEIPT
      stockLevelId: levelId,
      levelSequence: 1,
      itemId: item.id,
      sku: item.sku,
      warehouseId,
      delta: onHand,
      reservedDelta: 0,
      onHandBefore: 0,
      onHandAfter: onHand,
      reservedBefore: 0,
      reservedAfter: 0,
      actor: "test",
    });
  });
  return { levelId, warehouseId };
}

/** Writes the level's stock off to zero, with its ledger entry. */
async function writeOff(item: Item, level: { levelId: string; warehouseId: string }, onHand: number) {
  await db.transaction(async (tx) => {
    await tx.update(stockLevels).set({ onHand: 0, sequence: 2 }).where(eq(stockLevels.id, level.levelId));
    await tx.insert(movements).values({
      id: uuidv7(),
      kind: 2, // ADJUSTMENT
      stockLevelId: level.levelId,
      levelSequence: 2,
      itemId: item.id,
      sku: item.sku,
      warehouseId: level.warehouseId,
      delta: -onHand,
      reservedDelta: 0,
      onHandBefore: onHand,
      onHandAfter: 0,
      reservedBefore: 0,
      reservedAfter: 0,
      actor: "test",
    });
  });
}

describe("item types", () => {
  it("creates, reads, updates with a field mask, lists and soft-deletes", async () => {
    const name = unique("Laptops");
    const { itemType } = await client.createItemType({ itemType: { name: ` ${name} `, description: "portable computers" } });
    expect(itemType).toMatchObject({ name, description: "portable computers", category: ItemCategory.OTHER, createdBy: expect.any(String) });
    expect(itemType!.createdBy).not.toBe("");
    expect(itemType!.etag).not.toBe("");
    expect(itemType!.deleteTime).toBeUndefined();

    expect((await client.getItemType({ id: itemType!.id })).itemType).toEqual(itemType);

    const updated = (
      await client.updateItemType({
        itemType: { id: itemType!.id, name: "ignored", category: ItemCategory.EQUIPMENT, etag: itemType!.etag },
        updateMask: { paths: ["category"] },
      })
    ).itemType!;
    expect(updated).toMatchObject({ name, category: ItemCategory.EQUIPMENT, description: "portable computers" });
    expect(updated.etag).not.toBe(itemType!.etag);

    const deleted = (await client.deleteItemType({ id: itemType!.id, etag: updated.etag })).itemType!;
    expect(deleted.deleteTime).toBeDefined();
    expect((await client.getItemType({ id: itemType!.id })).itemType!.deleteTime).toBeDefined();
    // A retried delete returns the deleted type, whatever etag it carries.
    expect((await client.deleteItemType({ id: itemType!.id, etag: itemType!.etag })).itemType).toEqual(deleted);
    // The name is free again once the type is deleted.
    await client.createItemType({ itemType: { name } });
  });

  it("refuses a name already taken by a live type, whatever its case, on create and on rename", async () => {
    const name = unique("Pallet");
    await newType(name);
    expect(await failure(client.createItemType({ itemType: { name: name.toUpperCase() } }))).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "ALREADY_EXISTS",
      field: "item_type.name",
      constraint: "unique",
    });
    const other = await newType();
    expect(
      await failure(client.updateItemType({ itemType: { id: other.id, name: ` ${name.toLowerCase()} ` }, updateMask: { paths: ["name"] } })),
    ).toMatchObject({
      code: "ALREADY_EXISTS",
      field: "item_type.name",
    });
    expect((await client.getItemType({ id: other.id })).itemType!.name).toBe(other.name);
  });

  it.each([
    [{ name: "" }, "item_type.name", "required"],
    [{ name: "   " }, "item_type.name", "required"],
    [{ name: "x".repeat(201) }, "item_type.name", "max_length"],
    [{ name: "ok", description: "d".repeat(1001) }, "item_type.description", "max_length"],
    [{ name: "ok", category: 42 as ItemCategory }, "item_type.category", "enum"],
  ])("refuses %j with INVALID_ARGUMENT on %s", async (itemType, field, constraint) => {
    expect(await failure(client.createItemType({ itemType }))).toMatchObject({ code: "INVALID_ARGUMENT", field, constraint });
  });

  it("lists in name order, a page at a time, by category, with deleted ones on request", async () => {
    const prefix = unique("Order");
    const names = ["delta", "alpha", "charlie", "bravo", "echo"].map((n) => `${prefix} ${n}`);
    const created = [];
    for (const n of names) created.push(await newType(n, ItemCategory.CONTAINER));
    const gone = await newType(`${prefix} aaa-deleted`, ItemCategory.CONTAINER);
    await client.deleteItemType({ id: gone.id });

    const ours = (types: ItemType[]) => types.filter((t) => t.name.startsWith(prefix)).map((t) => t.name);
    const pages: string[][] = [];
    let pageToken = "";
    do {
      const page = await client.listItemTypes({ category: ItemCategory.CONTAINER, pageSize: 2, pageToken });
      pages.push(page.itemTypes.map((t) => t.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(pages.flat().filter((n) => n.startsWith(prefix))).toEqual([...names].sort());
    expect(pages.every((p) => p.length <= 2)).toBe(true);

    const withDeleted = await client.listItemTypes({ category: ItemCategory.CONTAINER, showDeleted: true, pageSize: 500 });
    expect(ours(withDeleted.itemTypes)).toEqual([`${prefix} aaa-deleted`, ...[...names].sort()]);
    const otherCategory = await client.listItemTypes({ category: ItemCategory.RAW_MATERIAL, pageSize: 500 });
    expect(ours(otherCategory.itemTypes)).toEqual([]);

    const first = await client.listItemTypes({ pageSize: 1 });
    expect(await failure(client.listItemTypes({ pageSize: 1, pageToken: first.nextPageToken, showDeleted: true }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "page_token",
    });
    expect(await failure(client.listItemTypes({ pageSize: 501 }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "page_size" });
    expect(await failure(client.listItemTypes({ category: 99 as ItemCategory }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "category" });
  });

  it("cannot be deleted while a live item uses it, and can once the item is deleted or moved", async () => {
    const type = await newType();
    const other = await newType();
    const a = await newItem(type.id);
    const b = await newItem(type.id);
    expect(await failure(client.deleteItemType({ id: type.id }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "IN_USE",
      field: "id",
      constraint: "in_use",
    });
    await client.deleteItem({ id: a.id });
    await client.updateItem({ item: { id: b.id, itemTypeId: other.id }, updateMask: { paths: ["item_type_id"] } });
    expect((await client.deleteItemType({ id: type.id })).itemType!.deleteTime).toBeDefined();
  });

  it("answers NOT_FOUND for unknown ids and INVALID_ARGUMENT for malformed ones; etags are checked", async () => {
    expect(await failure(client.getItemType({ id: MISSING }))).toMatchObject({ code: "NOT_FOUND", field: "id" });
    expect(await failure(client.getItemType({ id: "nope" }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "id", constraint: "format" });
    expect(await failure(client.updateItemType({ itemType: { id: MISSING, name: "x" } }))).toMatchObject({ code: "NOT_FOUND", field: "item_type.id" });
    expect(await failure(client.deleteItemType({ id: MISSING }))).toMatchObject({ code: "NOT_FOUND" });
    const t = await newType();
    await client.updateItemType({ itemType: { id: t.id, description: "changed" } });
    expect(await failure(client.updateItemType({ itemType: { id: t.id, name: "stale", etag: t.etag } }))).toMatchObject({
      code: "ABORTED",
      reason: "ETAG_MISMATCH",
      field: "item_type.etag",
    });
    expect(await failure(client.deleteItemType({ id: t.id, etag: t.etag }))).toMatchObject({ code: "ABORTED", reason: "ETAG_MISMATCH" });
    expect(await failure(client.updateItemType({ itemType: { id: t.id, name: "x" }, updateMask: { paths: ["created_by"] } }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "update_mask",
    });
    expect((await client.getItemType({ id: t.id })).itemType).toMatchObject({ name: t.name, description: "changed" });
  });

  it("a retried create returns the first answer; the id with another payload is ALREADY_EXISTS; 20 concurrent make one", async () => {
    const name = unique("Retried");
    const requestId = crypto.randomUUID();
    const first = await client.createItemType({ itemType: { name }, requestId });
    expect(await client.createItemType({ itemType: { name: ` ${name} `, category: ItemCategory.OTHER }, requestId })).toEqual(first);
    expect(await failure(client.createItemType({ itemType: { name: `${name}-other` }, requestId }))).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "REQUEST_ID_REUSED",
      field: "request_id",
    });

    const racing = unique("Racing");
    const rid = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.createItemType({ itemType: { name: racing }, requestId: rid })));
    expect(new Set(answers.map((a) => a.itemType!.id)).size).toBe(1);
    const all = await client.listItemTypes({ pageSize: 500 });
    expect(all.itemTypes.filter((t) => t.name === racing)).toHaveLength(1);
  });
});

describe("items", () => {
  it("creates with defaults, reads by id and SKU, updates with a mask, soft-deletes", async () => {
    const type = await newType();
    const sku = unique("LAP-15.in_x");
    const { item } = await client.createItem({ item: { sku, name: " Laptop 15 ", itemTypeId: type.id } });
    expect(item).toMatchObject({
      sku,
      name: "Laptop 15",
      description: "",
      itemTypeId: type.id,
      unitOfMeasure: "EA",
      imageUrl: "",
      attributes: {},
      status: ItemStatus.ACTIVE,
      defaultReorderPoint: 0n,
      defaultReorderQuantity: 0n,
    });
    expect(item!.price).toBeUndefined();
    expect(item!.createdBy).not.toBe("");
    expect(item!.updatedBy).toBe(item!.createdBy);

    expect((await client.getItem({ id: item!.id })).item).toEqual(item);
    expect((await client.getItemBySku({ sku })).item).toEqual(item);
    expect(await failure(client.getItemBySku({ sku: sku.toLowerCase() }))).toMatchObject({ code: "NOT_FOUND", field: "sku" });

    const updated = (
      await client.updateItem({
        item: {
          id: item!.id,
          name: "ignored",
          price: { currencyCode: "EUR", units: 999n, nanos: 990_000_000 },
          attributes: { color: "silver", size: "15in" },
          status: ItemStatus.DISCONTINUED,
          defaultReorderPoint: 5n,
          etag: item!.etag,
        },
        updateMask: { paths: ["price", "attributes", "status", "default_reorder_point"] },
      })
    ).item!;
    expect(updated).toMatchObject({
      name: "Laptop 15",
      price: { currencyCode: "EUR", units: 999n, nanos: 990_000_000 },
      attributes: { color: "silver", size: "15in" },
      status: ItemStatus.DISCONTINUED,
      defaultReorderPoint: 5n,
      defaultReorderQuantity: 0n,
    });
    // The read cache was invalidated by the update.
    expect((await client.getItem({ id: item!.id })).item).toEqual(updated);

    // Clearing the price: named in the mask, absent from the item.
    const cleared = (await client.updateItem({ item: { id: item!.id }, updateMask: { paths: ["price"] } })).item!;
    expect(cleared.price).toBeUndefined();

    const deleted = (await client.deleteItem({ id: item!.id, etag: cleared.etag })).item!;
    expect(deleted.deleteTime).toBeDefined();
    expect((await client.getItem({ id: item!.id })).item!.deleteTime).toBeDefined();
    expect(await failure(client.getItemBySku({ sku }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await liveBySkus(sku)).toEqual([]);
    expect((await client.deleteItem({ id: item!.id })).item).toEqual(deleted);
    // The SKU is free again once the item is deleted.
    const successor = await newItem(type.id, { sku });
    expect((await client.getItemBySku({ sku })).item!.id).toBe(successor.id);
  });

  it("keeps every field given at create; the unit of measure in upper case", async () => {
    const type = await newType();
    const kept = await newItem(type.id, {
      description: "d".repeat(4000),
      unitOfMeasure: "kg",
      price: { currencyCode: "USD", units: 0n, nanos: 500_000_000 },
      imageUrl: "https://cdn.example.com/items/1.png?v=2",
      attributes: { origin: "NL", note: "a=b c" },
      status: ItemStatus.INACTIVE,
      defaultReorderPoint: 1_000_000_000n,
      defaultReorderQuantity: 12n,
    });
    expect(kept).toMatchObject({
      unitOfMeasure: "KG",
      price: { currencyCode: "USD", units: 0n, nanos: 500_000_000 },
      imageUrl: "https://cdn.example.com/items/1.png?v=2",
      attributes: { origin: "NL", note: "a=b c" },
      status: ItemStatus.INACTIVE,
      defaultReorderPoint: 1_000_000_000n,
      defaultReorderQuantity: 12n,
    });
    expect(kept.description).toHaveLength(4000);
    expect((await client.getItem({ id: kept.id })).item).toEqual(kept);
  });

  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
  it.each<[string, ItemInit, string, string]>([
    ["a SKU with spaces", { sku: "LAP 15" }, "item.sku", "pattern"],
    ["a SKU of 65 characters", { sku: "S".repeat(65) }, "item.sku", "max_length"],
    ["a SKU with other punctuation", { sku: "LAP/15" }, "item.sku", "pattern"],
    ["no SKU", { sku: "" }, "item.sku", "required"],
    ["no name", { name: " " }, "item.name", "required"],
    ["a name of 201 characters", { name: "n".repeat(201) }, "item.name", "max_length"],
    ["a description of 4001 characters", { description: "d".repeat(4001) }, "item.description", "max_length"],
    ["a malformed item type id", { itemTypeId: "laptops" }, "item.item_type_id", "format"],
    ["a unit of measure of 17 characters", { unitOfMeasure: "U".repeat(17) }, "item.unit_of_measure", "max_length"],
    ["a unit of measure with a space", { unitOfMeasure: "K G" }, "item.unit_of_measure", "pattern"],
    ["a lower-case currency", { price: { currencyCode: "eur", units: 1n, nanos: 0 } }, "item.price.currency_code", "pattern"],
    ["a four-letter currency", { price: { currencyCode: "EURO", units: 1n, nanos: 0 } }, "item.price.currency_code", "pattern"],
    ["a price without currency", { price: { currencyCode: "", units: 1n, nanos: 0 } }, "item.price.currency_code", "required"],
    ["a negative price", { price: { currencyCode: "EUR", units: -1n, nanos: 0 } }, "item.price.units", "range"],
    ["negative nanos", { price: { currencyCode: "EUR", units: 0n, nanos: -5 } }, "item.price.nanos", "range"],
    ["nanos of a whole unit", { price: { currencyCode: "EUR", units: 0n, nanos: 1_000_000_000 } }, "item.price.nanos", "range"],
    ["an image URL that is no URL", { imageUrl: "not a url" }, "item.image_url", "format"],
    ["an ftp image URL", { imageUrl: "ftp://example.com/a.png" }, "item.image_url", "format"],
    ["an image URL of 2049 characters", { imageUrl: `https://e.com/${"a".repeat(2035)}` }, "item.image_url", "max_length"],
    ["65 attributes", { attributes: many(65) }, "item.attributes", "max_entries"],
    ["an attribute key of 65 characters", { attributes: { ["k".repeat(65)]: "v" } }, `item.attributes.${"k".repeat(65)}`, "key_format"],
    ["an empty attribute key", { attributes: { "": "v" } }, "item.attributes.", "key_format"],
    ["an attribute value of 1025 characters", { attributes: { k: "v".repeat(1025) } }, "item.attributes.k", "max_length"],
    ["an unknown status", { status: 7 as ItemStatus }, "item.status", "enum"],
    ["a negative reorder point", { defaultReorderPoint: -1n }, "item.default_reorder_point", "range"],
    ["a reorder quantity above 1,000,000,000", { defaultReorderQuantity: 1_000_000_001n }, "item.default_reorder_quantity", "range"],
  ])("refuses %s with INVALID_ARGUMENT naming the field, and writes nothing", async (_label, bad, field, constraint) => {
    const type = await newType();
    const sku = unique("BAD");
    const item = { sku, name: "bad input", itemTypeId: type.id, ...bad };
    expect(await failure(client.createItem({ item }))).toMatchObject({ code: "INVALID_ARGUMENT", reason: "INVALID_FIELD", field, constraint });
    expect((await client.listItems({ itemTypeId: type.id, showDeleted: true })).items).toEqual([]);
  });

  it("names every field at fault at once", async () => {
    expect(await failure(client.createItem({ item: {} }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      fields: ["item.sku", "item.name", "item.item_type_id"],
    });
    const all = await failure(
      client.createItem({
        item: { sku: "has space", name: "ok", itemTypeId: MISSING, price: { currencyCode: "eur", units: -1n, nanos: 0 }, imageUrl: "x" },
        requestId: "not valid",
      }),
    );
    expect(all.fields).toEqual(["request_id", "item.sku", "item.price.currency_code", "item.price.units", "item.image_url"]);
    expect(await failure(client.createItem({}))).toMatchObject({ code: "INVALID_ARGUMENT", field: "item" });
  });

  it("refuses a SKU already taken by a live item (case-sensitively), and an item type that is missing or deleted", async () => {
    const type = await newType();
    const sku = unique("Dup");
    await newItem(type.id, { sku });
    expect(await failure(newItem(type.id, { sku }))).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "ALREADY_EXISTS",
      field: "item.sku",
      constraint: "unique",
    });
    // SKUs are case-sensitive: the lower-case one is another SKU.
    await newItem(type.id, { sku: sku.toLowerCase() });

    expect(await failure(newItem(MISSING))).toMatchObject({ code: "NOT_FOUND", field: "item.item_type_id" });
    const gone = await newType();
    await client.deleteItemType({ id: gone.id });
    expect(await failure(newItem(gone.id))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "DELETED", field: "item.item_type_id" });
    expect((await client.listItems({ itemTypeId: gone.id })).items).toEqual([]);
  });

  it("refuses update masks naming immutable or unknown fields, and bad values, changing nothing", async () => {
    const type = await newType();
    const item = await newItem(type.id, { unitOfMeasure: "BOX" });
    for (const path of ["sku", "unit_of_measure"]) {
      expect(await failure(client.updateItem({ item: { id: item.id, sku: "NEW", unitOfMeasure: "KG" }, updateMask: { paths: [path] } }))).toMatchObject({
        code: "INVALID_ARGUMENT",
        field: "update_mask",
        constraint: "immutable_field",
      });
    }
    for (const path of ["id", "create_time", "created_by", "nonsense", "price.units"]) {
      expect(await failure(client.updateItem({ item: { id: item.id, name: "x" }, updateMask: { paths: [path] } }))).toMatchObject({
        code: "INVALID_ARGUMENT",
        field: "update_mask",
      });
    }
    expect(await failure(client.updateItem({ item: { id: item.id } }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "update_mask" });
    expect(
      await failure(client.updateItem({ item: { id: item.id, name: "", imageUrl: "nope" }, updateMask: { paths: ["name", "image_url", "status"] } })),
    ).toMatchObject({ code: "INVALID_ARGUMENT", fields: ["item.name", "item.image_url", "item.status"] });
    expect((await client.getItem({ id: item.id })).item).toEqual(item);
  });

  it("updates without a mask change the fields given (AIP-134) and record who changed the item", async () => {
    const type = await newType();
    const item = await newItem(type.id, { description: "before" });
    const other = await svc.authority.issue({ permissions: ["item.read", "item.write"], username: "editor" });
    const editor = svc.clientWith(ItemService, { authorization: `Bearer ${other}` });
    const updated = (await editor.updateItem({ item: { id: item.id, name: "Renamed", sku: "IGNORED", etag: item.etag } })).item!;
    expect(updated).toMatchObject({ sku: item.sku, name: "Renamed", description: "before", createdBy: item.createdBy });
    expect(updated.updatedBy).not.toBe(item.updatedBy);
    expect(updated.updatedBy).not.toBe("");
  });

  it("moves an item to another live item type only", async () => {
    const [type, next, gone] = [await newType(), await newType(), await newType()];
    await client.deleteItemType({ id: gone.id });
    const item = await newItem(type.id);
    expect(await failure(client.updateItem({ item: { id: item.id, itemTypeId: gone.id }, updateMask: { paths: ["item_type_id"] } }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      field: "item.item_type_id",
    });
    expect(await failure(client.updateItem({ item: { id: item.id, itemTypeId: MISSING }, updateMask: { paths: ["item_type_id"] } }))).toMatchObject({
      code: "NOT_FOUND",
      field: "item.item_type_id",
    });
    const moved = (await client.updateItem({ item: { id: item.id, itemTypeId: next.id }, updateMask: { paths: ["item_type_id"] } })).item!;
    expect(moved.itemTypeId).toBe(next.id);
  });

  it("answers NOT_FOUND for unknown ids, INVALID_ARGUMENT for malformed ones, FAILED_PRECONDITION for deleted items", async () => {
    expect(await failure(client.getItem({ id: MISSING }))).toMatchObject({ code: "NOT_FOUND", field: "id" });
    expect(await failure(client.getItem({ id: "nope" }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "id", constraint: "format" });
    expect(await failure(client.getItemBySku({ sku: "no such sku" }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "sku" });
    expect(await failure(client.getItemBySku({ sku: "NO-SUCH-SKU" }))).toMatchObject({ code: "NOT_FOUND", field: "sku" });
    expect(await failure(client.updateItem({ item: { id: MISSING, name: "x" } }))).toMatchObject({ code: "NOT_FOUND", field: "item.id" });
    expect(await failure(client.deleteItem({ id: MISSING }))).toMatchObject({ code: "NOT_FOUND" });
    const item = await newItem((await newType()).id);
    await client.deleteItem({ id: item.id });
    expect(await failure(client.updateItem({ item: { id: item.id, name: "x" } }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "DELETED" });
  });
});

describe("etags (AIP-154)", () => {
  it("a stale etag is ABORTED and changes nothing; the current one goes through", async () => {
    const item = await newItem((await newType()).id);
    const renamed = (await client.updateItem({ item: { id: item.id, name: "first", etag: item.etag }, updateMask: { paths: ["name"] } })).item!;
    expect(renamed.etag).not.toBe(item.etag);
    expect(await failure(client.updateItem({ item: { id: item.id, name: "lost", etag: item.etag }, updateMask: { paths: ["name"] } }))).toMatchObject({
      code: "ABORTED",
      reason: "ETAG_MISMATCH",
      fields: ["item.etag"],
    });
    expect(await failure(client.deleteItem({ id: item.id, etag: item.etag }))).toMatchObject({ code: "ABORTED", reason: "ETAG_MISMATCH" });
    expect(await failure(client.updateItem({ item: { id: item.id, name: "forged", etag: "not-an-etag" } }))).toMatchObject({ code: "ABORTED" });
    const unchanged = (await client.getItem({ id: item.id })).item!;
    expect(unchanged).toMatchObject({ name: "first", etag: renamed.etag });
    expect(unchanged.deleteTime).toBeUndefined();
    expect((await client.deleteItem({ id: item.id, etag: renamed.etag })).item!.deleteTime).toBeDefined();
  });

  it("of concurrent updates with the same etag, exactly one wins", async () => {
    const item = await newItem((await newType()).id);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client
          .updateItem({ item: { id: item.id, defaultReorderPoint: BigInt(i + 1), etag: item.etag }, updateMask: { paths: ["default_reorder_point"] } })
          .then(
            (r) => r.item!.defaultReorderPoint,
            (e: RemoteError) => status[e.code],
          ),
      ),
    );
    const winners = outcomes.filter((o) => typeof o === "bigint");
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o === "ABORTED")).toHaveLength(9);
    expect((await client.getItem({ id: item.id })).item!.defaultReorderPoint).toBe(winners[0]);
  });
});

describe("request ids (AIP-155)", () => {
  it("a retried create returns the first answer; the same id with another item is ALREADY_EXISTS", async () => {
    const type = await newType();
    const sku = unique("ONCE");
    const requestId = crypto.randomUUID();
    const item = { sku, name: "once", itemTypeId: type.id, price: { currencyCode: "EUR", units: 12n, nanos: 0 } };
    const first = await client.createItem({ item, requestId });
    expect(await client.createItem({ item: { ...item, name: " once ", unitOfMeasure: "ea" }, requestId })).toEqual(first);
    expect(await failure(client.createItem({ item: { ...item, price: { currencyCode: "EUR", units: 13n, nanos: 0 } }, requestId }))).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "REQUEST_ID_REUSED",
      fields: ["request_id"],
    });
    expect(await liveBySkus(sku)).toHaveLength(1);
    // Without a request id a repeat is a new create, and the SKU is taken.
    expect(await failure(client.createItem({ item }))).toMatchObject({ code: "ALREADY_EXISTS", reason: "ALREADY_EXISTS" });
  });

  it("20 concurrent identical creates: one item, 20 identical answers", async () => {
    const type = await newType();
    const sku = unique("RACE");
    const requestId = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.createItem({ item: { sku, name: "racing", itemTypeId: type.id }, requestId })));
    const bytes = new Set(answers.map((a) => Buffer.from(toBinary(ItemSchema, a.item!)).toString("base64")));
    expect(bytes.size).toBe(1);
    expect((await liveBySkus(sku)).map((i) => i.id)).toEqual([answers[0]!.item!.id]);
  });

  it("a create that failed can be sent again with the same id", async () => {
    const requestId = crypto.randomUUID();
    const sku = unique("AGAIN");
    expect(await failure(client.createItem({ item: { sku, name: "x", itemTypeId: MISSING }, requestId }))).toMatchObject({ code: "NOT_FOUND" });
    const type = await newType();
    // The failure rolled the claim of the request id back with it, so the id is free for the corrected request.
    const { item } = await client.createItem({ item: { sku, name: "x", itemTypeId: type.id }, requestId });
    expect((await client.createItem({ item: { sku, name: "x", itemTypeId: type.id }, requestId })).item).toEqual(item);
  });
});

describe("listing items", () => {
  it("filters by item type, status, SKUs and attributes, and shows deleted ones on request", async () => {
    const type = await newType();
    const red = await newItem(type.id, { attributes: { color: "red", size: "L", formula: "a=b" } });
    const blue = await newItem(type.id, { attributes: { color: "blue", size: "L" }, status: ItemStatus.INACTIVE });
    const gone = await newItem(type.id, { attributes: { color: "red" } });
    await client.deleteItem({ id: gone.id });
    const ids = async (req: Parameters<typeof client.listItems>[0]) =>
      (await client.listItems({ itemTypeId: type.id, pageSize: 500, ...req })).items.map((i) => i.id);

    expect(await ids({})).toEqual([red.id, blue.id]);
    expect(await ids({ showDeleted: true })).toEqual([red.id, blue.id, gone.id]);
    expect(await ids({ status: ItemStatus.INACTIVE })).toEqual([blue.id]);
    expect(await ids({ status: ItemStatus.ACTIVE, showDeleted: true })).toEqual([red.id, gone.id]);
    expect(await ids({ skus: [blue.sku, gone.sku, "NOT-THERE"] })).toEqual([blue.id]);
    expect(await ids({ attributes: ["color=red"] })).toEqual([red.id]);
    expect(await ids({ attributes: ["size=L"] })).toEqual([red.id, blue.id]);
    expect(await ids({ attributes: ["size=L", "color=blue"] })).toEqual([blue.id]);
    expect(await ids({ attributes: ["color=red", "color=blue"] })).toEqual([]);
    expect(await ids({ attributes: ["formula=a=b"] })).toEqual([red.id]);
    expect(await ids({ attributes: ["color=RED"] })).toEqual([]);
    expect((await client.listItems({ itemTypeId: (await newType()).id })).items).toEqual([]);
  });

  it("searches every word case-insensitively in the SKU, name and description, with wildcards taken literally", async () => {
    const type = await newType();
    const tag = unique("srch").replace("-", "");
    const a = await newItem(type.id, { sku: `${tag}-TSHIRT-RED`, name: "T-shirt", description: "Cotton, 100% organic" });
    const b = await newItem(type.id, { sku: `${tag}-MUG`, name: "Coffee mug", description: "Red ceramic_mug" });
    const c = await newItem(type.id, { sku: `${tag}-PATH`, name: "Back\\slash sign", description: "" });
    const search = async (query: string) => (await client.listItems({ itemTypeId: type.id, query, pageSize: 500 })).items.map((i) => i.id);

    expect(await search("")).toEqual([a.id, b.id, c.id]);
    expect(await search("   ")).toEqual([a.id, b.id, c.id]);
    expect(await search("red")).toEqual([a.id, b.id]);
    expect(await search("RED cotton")).toEqual([a.id]);
    expect(await search("red   coffee")).toEqual([b.id]);
    expect(await search(`${tag.toUpperCase()}-mug`)).toEqual([b.id]);
    expect(await search("100%")).toEqual([a.id]);
    expect(await search("%")).toEqual([a.id]);
    expect(await search("_")).toEqual([b.id]);
    expect(await search("c_ramic")).toEqual([]);
    expect(await search("\\")).toEqual([c.id]);
    expect(await search("back\\slash")).toEqual([c.id]);
    expect(await search("nothing-like-it")).toEqual([]);
  });

  it("pages in creation order without skipping or repeating, tokens bound to the filters", async () => {
    const type = await newType();
    const created: string[] = [];
    for (let i = 0; i < 11; i++) created.push((await newItem(type.id, { name: i % 2 ? "odd widget" : "even widget" })).id);
    const collect = async (pageSize: number, query = "") => {
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await client.listItems({ itemTypeId: type.id, query, pageSize, pageToken });
        expect(page.items.length).toBeLessThanOrEqual(pageSize);
        seen.push(...page.items.map((i) => i.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return seen;
    };
    expect(await collect(3)).toEqual(created);
    expect(await collect(1)).toEqual(created);
    expect(await collect(4, "odd")).toEqual(created.filter((_, i) => i % 2));

    const first = await client.listItems({ itemTypeId: type.id, pageSize: 2 });
    expect(await failure(client.listItems({ itemTypeId: type.id, pageSize: 2, pageToken: first.nextPageToken, query: "odd" }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "page_token",
    });
  });

  it.each<[string, Parameters<typeof client.listItems>[0], string, string]>([
    ["a malformed item type id", { itemTypeId: "x" }, "item_type_id", "format"],
    ["an unknown status", { status: 9 as ItemStatus }, "status", "enum"],
    ["a query of 201 characters", { query: "q".repeat(201) }, "query", "max_length"],
    ["501 SKUs", { skus: Array.from({ length: 501 }, (_, i) => `S${i}`) }, "skus", "max_entries"],
    ["a malformed SKU", { skus: ["OK", "not ok"] }, "skus[1]", "pattern"],
    ["17 attributes", { attributes: Array.from({ length: 17 }, (_, i) => `k${i}=v`) }, "attributes", "max_entries"],
    ["an attribute without '='", { attributes: ["color"] }, "attributes[0]", "format"],
    ["a page size of 501", { pageSize: 501 }, "page_size", "range"],
  ])("refuses %s with INVALID_ARGUMENT", async (_label, req, field, constraint) => {
    expect(await failure(client.listItems(req))).toMatchObject({ code: "INVALID_ARGUMENT", field, constraint });
  });
});

describe("deleting an item with stock", () => {
  it("is refused while a stock level holds stock, and allowed once it is empty", async () => {
    const item = await newItem((await newType()).id);
    const level = await putStock(item, 5);
    expect(await failure(client.deleteItem({ id: item.id }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "IN_USE",
      field: "id",
      constraint: "has_stock",
    });
    expect((await client.getItem({ id: item.id })).item!.deleteTime).toBeUndefined();
    expect((await client.getItemBySku({ sku: item.sku })).item!.id).toBe(item.id);

    await writeOff(item, level, 5);
    const deleted = (await client.deleteItem({ id: item.id })).item!;
    expect(deleted.deleteTime).toBeDefined();
    expect(deleted.updatedBy).not.toBe("");
  });

  it("an empty stock level does not block the delete", async () => {
    const item = await newItem((await newType()).id);
    await db.insert(stockLevels).values({ id: uuidv7(), itemId: item.id, sku: item.sku, warehouseId: uuidv7(), sequence: 0 });
    expect((await client.deleteItem({ id: item.id })).item!.deleteTime).toBeDefined();
  });
});

describe("audit records", () => {
  it("records every change to items and item types with the resource it changed", async () => {
    const rid = () => `items-audit-${++seq}-${Date.now()}`;
    const ids = { createType: rid(), updateType: rid(), create: rid(), update: rid(), del: rid(), refused: rid() };
    const meta = (id: string) => ({ metadata: { "x-request-id": id } });
    const { itemType } = await client.createItemType({ itemType: { name: unique("Audited") } }, meta(ids.createType));
    await client.updateItemType({ itemType: { id: itemType!.id, description: "d" } }, meta(ids.updateType));
    const { item } = await client.createItem({ item: { sku: unique("AUD"), name: "a", itemTypeId: itemType!.id } }, meta(ids.create));
    await client.updateItem({ item: { id: item!.id, name: "b" } }, meta(ids.update));
    await client.deleteItem({ id: item!.id }, meta(ids.del));
    await client.deleteItemType({ id: MISSING }, meta(ids.refused)).catch(() => undefined);

    const deadline = Date.now() + 10_000;
    const recordOf = (id: string) => svc.auditEvents.filter((e) => e.requestId === id);
    while (Object.values(ids).some((id) => recordOf(id).length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));

    const method = "/inventory.v1.ItemService/";
    expect(recordOf(ids.createType)).toMatchObject([
      { method: `${method}CreateItemType`, outcome: AuditOutcome.SUCCESS, resourceType: "ItemType", resourceId: itemType!.id, permission: "item.write" },
    ]);
    expect(recordOf(ids.updateType)).toMatchObject([{ resourceType: "ItemType", resourceId: itemType!.id, details: { fields: ["description"] } }]);
    expect(recordOf(ids.create)).toMatchObject([{ resourceType: "Item", resourceId: item!.id, details: { sku: item!.sku } }]);
    expect(recordOf(ids.update)).toMatchObject([{ method: `${method}UpdateItem`, resourceType: "Item", resourceId: item!.id }]);
    expect(recordOf(ids.del)).toMatchObject([{ method: `${method}DeleteItem`, resourceType: "Item", resourceId: item!.id }]);
    expect(recordOf(ids.refused)).toMatchObject([{ outcome: AuditOutcome.FAILURE, statusCode: "NOT_FOUND" }]);
  });

  it("refuses a caller who may only read, and writes nothing", async () => {
    const viewer = await svc.authority.issue({ permissions: ["item.read"] });
    const readOnly = svc.clientWith(ItemService, { authorization: `Bearer ${viewer}` });
    const name = unique("Denied");
    expect(await failure(readOnly.createItemType({ itemType: { name } }))).toMatchObject({ code: "PERMISSION_DENIED" });
    const all = await readOnly.listItemTypes({ pageSize: 500 });
    expect(all.itemTypes.filter((t) => t.name === name)).toEqual([]);
  });
});
