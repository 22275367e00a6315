import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` (from services/reservation) writes a new migration after a schema change.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./drizzle",
  schemaFilter: ["reservation"],
});
