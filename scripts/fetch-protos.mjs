// Copies the third-party .proto files our contracts import out of their npm package
// into .third_party/ (git-ignored), so buf can resolve them without network access.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const googleProtos = join(dirname(require.resolve("google-proto-files/package.json")), "google");

const files = [
  "api/annotations.proto",
  "api/http.proto",
  "api/field_behavior.proto",
  "rpc/status.proto",
  "rpc/error_details.proto",
  "rpc/code.proto",
];

const target = join(root, ".third_party");
rmSync(target, { recursive: true, force: true });
for (const file of files) {
  const to = join(target, "google", file);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(join(googleProtos, file), to);
}
console.log(`fetch-protos: ${files.length} files from google-proto-files -> .third_party/`);
