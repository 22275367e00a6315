// Copies the third-party .proto files our contracts import out of their npm package
// into .third_party/ (git-ignored), so buf can resolve them without network access.
// Each package is a root devDependency: turbo hashes the root's dependencies, so a new
// version of one regenerates gen/.
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const packageDir = (name) => dirname(require.resolve(`${name}/package.json`));

// [npm package, path inside it, path under .third_party/ (= the import path)]
const files = [
  ["google-proto-files", "google/api/annotations.proto", "google/api/annotations.proto"],
  ["google-proto-files", "google/api/http.proto", "google/api/http.proto"],
  ["google-proto-files", "google/api/httpbody.proto", "google/api/httpbody.proto"],
  ["google-proto-files", "google/api/field_behavior.proto", "google/api/field_behavior.proto"],
  ["google-proto-files", "google/rpc/status.proto", "google/rpc/status.proto"],
  ["google-proto-files", "google/rpc/error_details.proto", "google/rpc/error_details.proto"],
  ["google-proto-files", "google/rpc/code.proto", "google/rpc/code.proto"],
  // Served by every service; generated too so reflection can describe them.
  ["grpc-health-check", "proto/health/v1/health.proto", "grpc/health/v1/health.proto"],
  ["@grpc/reflection", "build/proto/grpc/reflection/v1/reflection.proto", "grpc/reflection/v1/reflection.proto"],
  // Older grpcurl versions ask the v1alpha service first; it is wire-identical to v1.
  ["@grpc/reflection", "build/proto/grpc/reflection/v1alpha/reflection.proto", "grpc/reflection/v1alpha/reflection.proto"],
];

const target = join(root, ".third_party");
rmSync(target, { recursive: true, force: true });
for (const [pkg, from, to] of files) {
  const dest = join(target, to);
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(join(packageDir(pkg), from), dest);
}
console.log(`fetch-protos: ${files.length} third-party .proto files -> .third_party/`);

// buf's own `clean` would also delete gen/package.json, so stale generated folders go here.
for (const entry of readdirSync(join(root, "gen"), { withFileTypes: true })) {
  if (entry.isDirectory() && entry.name !== "node_modules") rmSync(join(root, "gen", entry.name), { recursive: true });
}
