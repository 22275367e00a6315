import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { processes } from "./packages/service-catalog/src/catalog.ts";

// One project per workspace package, so `vitest run --project warehouse` runs one package's
// tests and the root `npm test` runs them all: the libraries and apps by hand, and one per
// service process of the catalog. Each test file owns its own database or schema, so files
// run in parallel.
// Each project's root is resolved from this file, not from the working directory, so a
// package's own `npm test` (vitest --root .. --project <name>, run from the package) finds it.
// Files of a project share their worker's module graph (isolate: false): each file still owns
// its database or schema and its servers, and no longer pays for importing the platform, the
// generated code and the drivers again, which was a third of the suite's time (290 → 191 s on
// Postgres). The infra project keeps isolation: Pulumi's mocks are process-wide settings.
const project = (name: string, dir: string, isolate = false) => ({
  test: { name, root: fileURLToPath(new URL(dir, import.meta.url)), include: ["src/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 120_000, isolate },
});

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the CPUs: one on a 2-core machine, where the
    // files then run one by one while much of their time is spent waiting (gRPC, timers,
    // Postgres). Two there cut the embedded run from 449 s to 338 s.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      project("platform", "packages/platform"),
      project("service-catalog", "packages/service-catalog"),
      project("build", "packages/build"),
      project("cluster", "apps/cluster"),
      project("migrate", "apps/migrate"),
      project("edge", "edge"),
      project("infra", "infra-pulumi", true),
      ...processes.map((p) => project(p.name, `services/${p.name}`)),
    ],
  },
});
