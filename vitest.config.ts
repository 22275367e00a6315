import { defineConfig } from "vitest/config";

// One project per workspace package, so `vitest run --project warehouse` runs one package's
// tests and the root `npm test` runs them all. Each test file owns its own database or schema,
// so files run in parallel.
const project = (name: string, dir: string) => ({
  test: { name, root: dir, include: ["src/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
});

export default defineConfig({
  test: {
    projects: [
      project("platform", "packages/platform"),
      project("api", "packages/api"),
      project("cluster", "packages/cluster"),
      project("warehouse", "services/warehouse"),
      project("inventory", "services/inventory"),
      project("reservation", "services/reservation"),
      project("user", "services/user"),
      project("edge", "edge"),
      project("infra", "infra-pulumi"),
    ],
  },
});
