/**
 * npm run chaos: reservations under crashes. The user, warehouse, inventory and reservation
 * services and the edge run as separate processes on a scratch database of DATABASE_URL's
 * Postgres; a load process makes, confirms, cancels and abandons reservations of a few SKUs
 * through the edge while the processes are killed (SIGKILL, as a crash) and started again, in
 * turn: the reservation and inventory services most often, the edge, the warehouse and the user
 * service now and then. Then, once the sweeper has had time to settle what the
 * crashes cut off, every invariant across the two services is checked straight in the database
 * (invariantProblems: each reservation's hold in the state its status says, reserved equal to
 * the active reservations' allocations, the ledger reconciled). Exits 1 if any does not hold.
 *
 * Env: DATABASE_URL (required), CHAOS_SECONDS (load time, 30), CHAOS_CLIENTS (16),
 * CHAOS_KILL_EVERY_MS (3000), CHAOS_DOWN_MS (how long a killed process stays down, 1000).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, rows } from "@inv/platform";
import { sql } from "drizzle-orm";
import { invariantProblems } from "@inv/reservation-service/testing";
import postgres from "postgres";
import { compileServers, ROOT, stopProcess, type BenchProcess } from "./processes.js";
import { reservationsWorkload, seed, startCluster, withDatabase } from "./stock.js";

const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECONDS = number("CHAOS_SECONDS", 30);
const CLIENTS = number("CHAOS_CLIENTS", 16);
const KILL_EVERY_MS = number("CHAOS_KILL_EVERY_MS", 3000);
const DOWN_MS = number("CHAOS_DOWN_MS", 1000);
/** Killed in this order, again and again: the two that share the saga most often. */
const VICTIMS = ["reservation", "inventory", "edge", "reservation", "inventory", "warehouse", "reservation", "inventory", "user"] as const;
/** How long the sweeper gets to settle what the crashes cut off. */
const SETTLE_MS = 60_000;

const url = process.env["DATABASE_URL"];
if (!url) {
  console.error("npm run chaos needs DATABASE_URL: a Postgres server it may create a scratch database on.");
  process.exit(2);
}

await compileServers();
const workDir = mkdtempSync(join(tmpdir(), "inv-chaos-"));
const admin = postgres(url, { max: 1, onnotice: () => {} });
const database = `inv_chaos_${randomBytes(4).toString("hex")}`;
const processes: BenchProcess[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let failed = true;

try {
  await admin.unsafe(`CREATE DATABASE "${database}"`);
  const scratchUrl = withDatabase(url, database);
  process.stdout.write(`Chaos: starting the services on ${database}, seeding 20 SKUs with 60 units in each of 2 warehouses...`);
  const cluster = await startCluster(
    reservationsWorkload,
    { seconds: SECONDS, warmupSeconds: 0, jitWarmupSeconds: 0, rounds: 1, workDir },
    scratchUrl,
    processes,
    {
      // Short times to live and a quick sweeper, so a 30 s run sees expiries and repairs.
      RESERVATION_TTL_MIN_SECONDS: "1",
      RESERVATION_SWEEP_INTERVAL_MS: "250",
      RESERVATION_PENDING_GRACE_MS: "2000",
      RESERVATION_INVENTORY_DEADLINE_MS: "2000",
    },
  );
  const seeded = await seed(cluster, { items: 20, stock: 60n });
  const itemsFile = join(workDir, "chaos-items.json");
  // The hot SKU ten times over, beside 20 spread ones: a third of the calls contend for one level.
  writeFileSync(itemsFile, JSON.stringify([...seeded.spread, ...Array<string>(10).fill(seeded.hot)]));
  console.log(" done");

  const load = new Promise<Record<string, number>>((resolve, reject) =>
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "bench/chaos-load.ts")],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          EDGE_URL: `http://${cluster.targets.edge}`,
          TOKEN: cluster.accessToken,
          ITEMS_FILE: itemsFile,
          CONCURRENCY: String(CLIENTS),
          SECONDS: String(SECONDS),
        },
      },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as Record<string, number>)),
    ),
  );
  let loading = true;
  load.finally(() => {
    loading = false;
  });
  const kills: string[] = [];
  for (let i = 0; loading; i++) {
    await sleep(KILL_EVERY_MS);
    if (!loading) break;
    const victim = VICTIMS[i % VICTIMS.length]!;
    cluster.kill(victim);
    kills.push(victim);
    await sleep(DOWN_MS);
    await cluster.restart(victim);
  }
  const counts = await load;
  console.log(`load: ${SECONDS} s, ${CLIENTS} clients; killed and restarted ${kills.length} times (${kills.join(", ")})`);
  for (const [what, n] of Object.entries(counts).sort()) console.log(`  ${what.padEnd(32)} ${n}`);

  const { db, close } = await openDatabase({ url: scratchUrl, schema: "reservation", migrationsFolder: join(ROOT, "services/reservation/drizzle") });
  try {
    const started = Date.now();
    let problems = await invariantProblems(db, db);
    while (problems.length > 0 && Date.now() - started < SETTLE_MS) {
      await sleep(500);
      problems = await invariantProblems(db, db);
    }
    const statuses = await rows<{ status: number; n: string }>(
      db,
      sql`SELECT status, count(*)::text AS n FROM reservation.reservations GROUP BY status ORDER BY status`,
    );
    const names = ["", "PENDING", "ACTIVE", "CONFIRMED", "FULFILLED", "CANCELLED", "EXPIRED", "FAILED"];
    console.log(`reservations by status: ${statuses.map((s) => `${names[s.status]} ${s.n}`).join(", ")}`);
    if (problems.length === 0) {
      console.log(`every invariant holds (settled ${((Date.now() - started) / 1000).toFixed(1)} s after the load)`);
      failed = false;
    } else {
      console.log(`${problems.length} invariant(s) broken ${SETTLE_MS / 1000} s after the load, e.g.:`);
      for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
    }
  } finally {
    await close();
  }
} finally {
  await Promise.all(processes.map((p) => stopProcess(p)));
  await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch((err: unknown) => console.error(`dropping ${database} failed:`, err));
  await admin.end({ timeout: 5 });
  console.log(`logs kept in ${workDir}`);
}
process.exit(failed ? 1 : 0);
