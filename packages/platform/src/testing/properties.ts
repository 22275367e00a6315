/**
 * How many runs a property over a real database makes: `floor` (100 unless a test asks for more)
 * by default. `TEST_PROPERTY_RUNS` sets a smaller count for a run that repeats the suite on a
 * second engine: CI runs every property at full count against Postgres, then once more against
 * the embedded PGlite with fewer runs, as a check that the embedded engine holds them too.
 */
export function propertyRuns(floor = 100): number {
  const asked = process.env["TEST_PROPERTY_RUNS"];
  if (asked === undefined || asked === "") return floor;
  const runs = Number(asked);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`TEST_PROPERTY_RUNS must be a positive integer, not "${asked}"`);
  return Math.min(runs, floor);
}
