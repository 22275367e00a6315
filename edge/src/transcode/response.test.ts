import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CreateWarehouseResponseSchema, ListWarehousesResponseSchema, WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { describe, expect, it } from "vitest";
import { ItemService } from "./item-service.fixture.js";
import { renderResponse } from "./response.js";
import { httpBindings } from "./routes.js";

const createWarehouse = WarehouseService.method["createWarehouse"]!;
const listWarehouses = WarehouseService.method["listWarehouses"]!;
const [createRule] = httpBindings(createWarehouse);
const [listRule] = httpBindings(listWarehouses);

describe("renderResponse", () => {
  it("selects the response_body field, in proto JSON with lowerCamelCase names", () => {
    const res = create(CreateWarehouseResponseSchema, {
      warehouse: { id: "w1", code: "AMS-1", name: "Amsterdam", priority: 0, createTime: timestampFromDate(new Date("2024-01-31T12:00:00Z")) },
    });
    expect(renderResponse(createWarehouse, createRule!, res)).toEqual({
      id: "w1",
      code: "AMS-1",
      name: "Amsterdam",
      priority: 0,
      createTime: "2024-01-31T12:00:00Z",
      etag: "",
    });
  });

  it("renders the whole message without response_body, with implicit defaults but not unset optionals", () => {
    const res = create(ListWarehousesResponseSchema, { warehouses: [{ id: "w1", active: false }], nextPageToken: "" });
    expect(renderResponse(listWarehouses, listRule!, res)).toEqual({
      warehouses: [{ id: "w1", code: "", name: "", priority: 0, active: false, etag: "" }],
      nextPageToken: "",
    });
    expect(renderResponse(listWarehouses, listRule!, create(ListWarehousesResponseSchema))).toEqual({ warehouses: [], nextPageToken: "" });
  });

  it("answers an unset response_body message with {}", () => {
    expect(renderResponse(createWarehouse, createRule!, create(CreateWarehouseResponseSchema))).toEqual({});
  });

  it("renders 64-bit integers as strings and enums by name", () => {
    const getItem = ItemService.method["getItem"]!;
    const item = create(getItem.output, { quantity: 5n, kind: 2, serial: 18446744073709551615n });
    expect(renderResponse(getItem, httpBindings(getItem)[0]!, item)).toMatchObject({ quantity: "5", kind: "KIND_PALLET", serial: "18446744073709551615" });
  });

  it("refuses a message of another type", () => {
    expect(() => renderResponse(listWarehouses, listRule!, create(CreateWarehouseResponseSchema))).toThrow(/not warehouse.v1.ListWarehousesResponse/);
  });
});
