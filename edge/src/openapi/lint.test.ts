/** The document /openapi.json serves passes Redocly's recommended lint (redocly.yaml says what is off, and why). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { publicServices } from "@inv/service-catalog/descriptors";
import { afterAll, expect, it } from "vitest";
import { openApiDocument } from "../index.js";

const edgeDir = fileURLToPath(new URL("../../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "openapi-lint-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it("passes redocly lint with the recommended rules, with no warnings either", () => {
  const file = join(tmp, "openapi.json");
  writeFileSync(file, JSON.stringify(openApiDocument(publicServices)));
  const cli = join(edgeDir, "../node_modules/.bin/redocly");
  const run = spawnSync(cli, ["lint", "--config", join(edgeDir, "redocly.yaml"), "--format", "stylish", file], {
    encoding: "utf8",
    env: { ...process.env, REDOCLY_SUPPRESS_NOTIFICATIONS: "true", NO_COLOR: "1" },
  });
  const output = `${run.stdout}\n${run.stderr}`;
  expect(run.status, output).toBe(0);
  expect(output).not.toMatch(/^\s*\d+:\d+\s+warning\s/m); // stylish lines: "12:3  warning  rule  message"
});
