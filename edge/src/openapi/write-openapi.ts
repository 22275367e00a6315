/**
 * Writes the edge's OpenAPI document, as /openapi.json serves it, to the file named on the
 * command line (stdout without one), so that CI can lint it: `npm run lint:openapi -w @inv/edge`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { publicServices } from "@inv/service-catalog/descriptors";
import { openApiDocument } from "../index.js";

const json = `${JSON.stringify(openApiDocument(publicServices), null, 2)}\n`;
const out = process.argv[2];
if (out === undefined) process.stdout.write(json);
else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, json);
}
