/** Methods answering google.api.HttpBody are documented as files, not JSON: ExportReport as a CSV download. */
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import { ReportService } from "@inv/gen/inventory/v1/report_pb";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../index.js";
import { buildOpenApi } from "./openapi.js";
import type { Response } from "./responses.js";

const info = { title: "t", version: "1" };

describe("a google.api.HttpBody server stream in /openapi.json", () => {
  it("is a text/csv binary file with the download headers for ExportReport", () => {
    const doc = openApiDocument([ReportService, StockService]); // with the comments of the generated descriptors
    const ok = doc.paths["/v1/reports:export"]!.post!.responses["200"] as Response;
    expect(Object.keys(ok.content!)).toEqual(["text/csv"]);
    expect(ok.content!["text/csv"]!.schema).toEqual({ type: "string", format: "binary" });
    expect(Object.keys(ok.headers!)).toEqual(["Content-Disposition", "X-Total-Rows", "X-Generate-Time"]);
    expect(ok.headers!["X-Total-Rows"]!.schema).toEqual({ type: "integer", minimum: 0 });
    expect(ok.description).toMatch(/cuts the response off/);
    // Error answers are unchanged; other streams are still NDJSON.
    expect(doc.paths["/v1/reports:export"]!.post!.responses["400"]).toEqual({ $ref: "#/components/responses/BadRequest" });
    const watch = doc.paths["/v1/stock-levels:watch"]!.get!.responses["200"] as Response;
    expect(Object.keys(watch.content!)).toEqual(["application/x-ndjson"]);
  });

  it("is application/octet-stream when the method's comment names no media type", () => {
    const doc = buildOpenApi([ReportService], info);
    const ok = doc.paths["/v1/reports:export"]!.post!.responses["200"] as Response;
    expect(ok.content).toEqual({ "application/octet-stream": { schema: { type: "string", format: "binary" } } });
  });
});
