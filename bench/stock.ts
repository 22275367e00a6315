/**
 * The stock benches (part of npm run bench), each a workload run as production runs it, on spread
 * SKUs and on one hot SKU, and in the same run pgbench running the workload's own SQL against the
 * same Postgres, the same schemas and the same rows, so the service's rate can be read as a ratio
 * to what the database does with those statements and nothing else:
 * - holds: inventory.v1.HoldService/HoldStock straight over gRPC to the inventory service
 *   (hold-load.ts; holds.pgbench.sql);
 * - reservations: one-line reservations over REST through the edge, which forwards to the
 *   reservation service, which holds the stock in inventory (reservation-load.ts;
 *   reservations.pgbench.sql), plus a run at 64 clients for the p99 under load.
 *
 * Everything happens in a scratch database (inv_bench_<random>) created on DATABASE_URL's server
 * and dropped at the end, with its own service processes.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { GrpcChannel, createGrpcClient } from "@inv/platform";
import { ItemService } from "@inv/gen/inventory/v1/item_pb";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import postgres from "postgres";
import { MEASURING, type CallLoopResult } from "./call-loop.js";
import {
  ROOT,
  cpuMs,
  freePort,
  rssMiB,
  serverHeapFlags,
  startProcess,
  stopProcess,
  usageOf,
  waitForPort,
  wakeUps,
  type BenchProcess,
  type Usage,
} from "./processes.js";
import { median } from "./load.js";
import { formatRows } from "./report.js";

export interface StockBenchOptions {
  /** Seconds per measured run. */
  seconds: number;
  /** Seconds of load before each measured run. */
  warmupSeconds: number;
  /** Seconds of load on the service path once, before its first measured run: time for V8 to compile it. */
  jitWarmupSeconds: number;
  /** Runs per cell; medians are reported. */
  rounds: number;
  /** Where the processes' logs go (kept when the run fails). */
  workDir: string;
  /** A folder for CPU profiles of the servers, when set. */
  profileDir?: string | undefined;
}

/** Clients in flight, for the service and for pgbench (-c) alike. */
const CLIENTS = 8;
/** Clients of the reservation bench's latency run (its p99 target is at 64). */
const MANY_CLIENTS = 64;
const P99_TARGET_MS = 50;
/** pgbench threads (-j): the machine the numbers in the issue came from has 2 cores. */
const PGBENCH_THREADS = 2;
/** SKUs the spread runs pick from at random; one more is the hot SKU. */
const SPREAD_ITEMS = Number(process.env["BENCH_HOLD_ITEMS"] ?? 1000);
/** Received into every level: holds of 1 never run out during a run. */
const STOCK = 1_000_000_000n;
/** One server of a workload's floor, and the cluster process whose place it takes. */
interface FloorServer {
  name: string;
  entry: string;
  standsFor: "inventory" | "reservation" | "edge";
}

/** What one workload measures, and how. */
interface Workload {
  name: "holds" | "reservations";
  /** What one unit of work is, in the tables: "holds", "reservations". */
  unit: string;
  targets: Record<Mode, number>;
  /** The load process (in bench/), and what it is told besides CONCURRENCY and SECONDS. */
  loadScript: string;
  loadEnv(c: Cluster, s: Seeded, itemsFile: string): Record<string, string>;
  pgbenchScript: string;
  /** Whether it needs the reservation service and the edge as well. */
  reservations: boolean;
  /**
   * The floor's servers (bench/floor), started in this order, each standing in for the cluster
   * process it names: the same load also runs against them.
   */
  floor: readonly FloorServer[];
  /** Lines printed under the title: what a unit of work is. */
  describe: string[];
}

const holdsWorkload: Workload = {
  name: "holds",
  unit: "holds",
  targets: { spread: 0.6, hot: 1.0 },
  loadScript: "bench/hold-load.ts",
  loadEnv: (c, s, itemsFile) => ({
    GRPC_TARGET: `dns:///${c.targets.inventory}`,
    SERVICE_SECRET: c.serviceSecret,
    ITEMS_FILE: itemsFile,
    WAREHOUSE_IDS: s.warehouseIds.join(","),
  }),
  pgbenchScript: "bench/holds.pgbench.sql",
  reservations: false,
  floor: [{ name: "floor", entry: "bench/floor/hold-server.ts", standsFor: "inventory" }],
  describe: [
    "HoldStock straight over gRPC to the inventory service vs pgbench running the hold's SQL (bench/holds.pgbench.sql)",
    "a hold: a new reservation id, one line, warehouse_ids of 2 warehouses (the first has the stock it takes)",
  ],
};

export const reservationsWorkload: Workload = {
  name: "reservations",
  unit: "reservations",
  targets: { spread: 0.5, hot: 1.0 },
  loadScript: "bench/reservation-load.ts",
  loadEnv: (c, s, itemsFile) => ({
    EDGE_URL: `http://${c.targets.edge}`,
    TOKEN: c.accessToken,
    ITEMS_FILE: itemsFile,
    WAREHOUSE_IDS: s.warehouseIds.join(","),
  }),
  pgbenchScript: "bench/reservations.pgbench.sql",
  reservations: true,
  floor: [
    { name: "floor-hold", entry: "bench/floor/hold-server.ts", standsFor: "inventory" },
    { name: "floor-reservation", entry: "bench/floor/reservation-server.ts", standsFor: "reservation" },
    { name: "floor-edge", entry: "bench/floor/reservation-http-server.ts", standsFor: "edge" },
  ],
  describe: [
    "POST /v1/reservations over REST through the edge (HTTP/1.1 keep-alive, a bearer token) vs pgbench running the reservation's SQL (bench/reservations.pgbench.sql)",
    "a reservation: a new order id, one line of 1, warehouse_ids of 2 warehouses (the first has the stock); the edge checks the token and rate limits, the reservation service records it and holds the stock through inventory",
  ],
};
/** pgbench's query mode: prepared (parse once per connection) unless BENCH_PGBENCH_PROTOCOL says extended (parse every time). */
const PGBENCH_PROTOCOL = process.env["BENCH_PGBENCH_PROTOCOL"] ?? "prepared";

type Mode = "spread" | "hot";

interface Seeded {
  warehouseIds: [string, string];
  /** The first warehouse's code (the allocation row records it). */
  code: string;
  /** The spread SKUs' item ids. */
  spread: string[];
  /** The hot SKU's item id. */
  hot: string;
}

/** A measured run: units of work (holds, reservations) per second, latency, CPU and wake-ups per unit by process. */
interface Run {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  units: number;
  failures: number;
  errors: string[];
  cpuUsPerUnit: Record<string, number>;
  wakeUpsPerUnit: Record<string, number>;
}

export const holdBench = (opts: StockBenchOptions) => stockBench(holdsWorkload, opts);
export const reservationBench = (opts: StockBenchOptions) => stockBench(reservationsWorkload, opts);

async function stockBench(w: Workload, opts: StockBenchOptions): Promise<void> {
  if (PGBENCH_PROTOCOL !== "prepared" && PGBENCH_PROTOCOL !== "extended")
    throw new Error(`BENCH_PGBENCH_PROTOCOL is "prepared" or "extended", not "${PGBENCH_PROTOCOL}"`);
  const url = process.env["DATABASE_URL"];
  if (!url) {
    console.log(`${title(w)}: skipped. It needs DATABASE_URL (a Postgres server it may create a scratch database on) and pgbench on PATH.\n`);
    return;
  }
  const pgbenchVersion = versionOf("pgbench");
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const database = `inv_bench_${randomBytes(4).toString("hex")}`;
  const processes: BenchProcess[] = [];
  let scratch: postgres.Sql | undefined;
  try {
    const [version] = await admin<{ server_version: string }[]>`SHOW server_version`;
    const serverVersion = version?.server_version ?? "?";
    await admin.unsafe(`CREATE DATABASE "${database}"`);
    const logSql = process.env["BENCH_LOG_SQL"] === "1";
    if (logSql) {
      // Every statement of the scratch database in the server's log, to compare the service's with holds.pgbench.sql.
      await admin.unsafe(`ALTER DATABASE "${database}" SET log_statement = 'all'`);
    }
    const scratchUrl = withDatabase(url, database);
    scratch = postgres(scratchUrl, { max: 1, onnotice: () => {} });

    process.stdout.write(`\n${title(w)}: starting the services, seeding ${SPREAD_ITEMS + 1} SKUs in 2 warehouses through their APIs...`);
    const seedStart = performance.now();
    const cluster = await startCluster(w, opts, scratchUrl, processes);
    const seeded = await seed(cluster);
    await pickTable(scratch, seeded);
    await quietTables(scratch);
    process.stdout.write(` done in ${((performance.now() - seedStart) / 1000).toFixed(0)} s\n`);
    const itemsFile = (mode: Mode) => {
      const file = join(opts.workDir, `${w.name}-items-${mode}.json`);
      writeFileSync(file, JSON.stringify(mode === "spread" ? seeded.spread : [seeded.hot]));
      return file;
    };
    const files = { spread: itemsFile("spread"), hot: itemsFile("hot") };

    const runs: Runs = {
      service: { spread: [], hot: [] },
      floor: { spread: [], hot: [] },
      pgbench: { spread: [], hot: [] },
    };
    const serverProcesses = cluster.servers;
    const floor = w.floor.length > 0 ? await startFloor(w, scratchUrl, seeded, opts, processes, cluster) : undefined;
    // The floor answers the same load at other addresses; the rest of the cluster is as it was.
    const atFloor = floor && { ...cluster, targets: { ...cluster.targets, ...floor.targets } };
    if (opts.jitWarmupSeconds > 0) {
      // Seeding calls other RPCs than the measured ones: until V8 has compiled the measured path,
      // a run measures the compiler (see "Warm-up" in bench/README.md). Not measured.
      await serviceRun(w, cluster, seeded, files.spread, { seconds: opts.jitWarmupSeconds, warmupSeconds: 0 }, CLIENTS, []);
      if (atFloor) await serviceRun(w, atFloor, seeded, files.spread, { seconds: opts.jitWarmupSeconds / 2, warmupSeconds: 0 }, CLIENTS, []);
      if (floor) await deleteBenchOutboxRows(scratch, w);
    }
    for (let round = 0; round < opts.rounds; round++) {
      for (const mode of ["spread", "hot"] as const) {
        // A neighbour's burst of CPU use should not always land on the same side.
        const sides = round % 2 === 0 ? (["service", "floor", "pgbench"] as const) : (["pgbench", "floor", "service"] as const);
        for (const side of sides) {
          if (side === "floor" && !atFloor) continue;
          // Each run starts from vacuumed tables (quietTables): on the hot SKU every hold updates
          // one row, whose dead versions pile up and slow every later update until vacuum clears
          // them, so which side ran after the other's dead rows would otherwise decide a cell.
          await scratch.unsafe("VACUUM");
          if (side === "service") {
            runs.service[mode].push(await serviceRun(w, cluster, seeded, files[mode], opts, CLIENTS, serverProcesses, scratch, database));
          } else if (side === "floor") {
            if (!floor || !atFloor) continue;
            runs.floor[mode].push(await serviceRun(w, atFloor, seeded, files[mode], opts, CLIENTS, floor.procs, scratch, database));
            await deleteBenchOutboxRows(scratch, w);
          } else if (pgbenchVersion) {
            await pgbenchRun(w, scratchUrl, scratch, database, seeded, mode, opts.warmupSeconds, opts.workDir);
            runs.pgbench[mode].push(await pgbenchRun(w, scratchUrl, scratch, database, seeded, mode, opts.seconds, opts.workDir));
          }
        }
      }
    }

    // The latency under many clients: the service alone, spread SKUs.
    if (w.reservations) await scratch.unsafe("VACUUM");
    const many = w.reservations ? await serviceRun(w, cluster, seeded, files.spread, opts, MANY_CLIENTS, serverProcesses) : undefined;
    if (many && atFloor) await scratch.unsafe("VACUUM");
    const manyAtFloor = many && atFloor ? await serviceRun(w, atFloor, seeded, files.spread, opts, MANY_CLIENTS, []) : undefined;

    console.log(
      `${w.describe[0]}, ${CLIENTS} clients, ${opts.seconds} s per run after ${opts.warmupSeconds} s of warm-up (and ${opts.jitWarmupSeconds} s of the service's before its first), median of ${opts.rounds} round(s)`,
    );
    console.log(
      `  Postgres ${serverVersion}, scratch database ${database}; ${pgbenchVersion ? `${pgbenchVersion}, -M ${PGBENCH_PROTOCOL} -c ${CLIENTS} -j ${PGBENCH_THREADS}` : "pgbench is not on PATH: the comparison with it was skipped"}`,
    );
    if (logSql) console.log(`  BENCH_LOG_SQL=1: every statement went to the Postgres server's log, which slows everything down`);
    console.log(`  spread: each one takes 1 of a random one of ${SPREAD_ITEMS} SKUs; hot: every one takes 1 of the same SKU (one stock level)`);
    console.log(`  ${w.describe[1]}\n`);
    const withPgbench = !!pgbenchVersion;
    console.log(`${rateTable(w, runs, withPgbench)}\n\n${perUnitTable(CPU, w, runs, withPgbench)}\n\n${perUnitTable(WAKE_UPS, w, runs, withPgbench)}\n`);
    if (many) {
      const verdict = many.p99Ms <= P99_TARGET_MS ? "ok" : "MISSED";
      console.log(
        `${MANY_CLIENTS} clients, spread: ${int(many.perSecond)} ${w.unit}/s, p50 ${ms(many.p50Ms)} ms, p99 ${ms(many.p99Ms)} ms (target < ${P99_TARGET_MS} ms: ${verdict}), ${many.failures} failures`,
      );
      if (manyAtFloor)
        console.log(
          `${MANY_CLIENTS} clients, spread, the floor: ${int(manyAtFloor.perSecond)} ${w.unit}/s, p50 ${ms(manyAtFloor.p50Ms)} ms, p99 ${ms(manyAtFloor.p99Ms)} ms, ${manyAtFloor.failures} failures`,
        );
      console.log();
    }
    for (const side of SIDES) {
      for (const [name, r] of Object.entries(runs[side])) {
        const errors = [...new Set(r.flatMap((x) => x.errors))];
        if (errors.length > 0) console.log(`${side} ${name}: failures, e.g. ${errors.slice(0, 3).join("; ")}`);
      }
    }
    const rss = processes.map((p) => [p.name, `${rssMiB(p)?.toFixed(0) ?? "?"} MiB`]);
    console.log(formatRows([["process", `RSS after the ${w.name} runs`], ...rss], `Memory (${serverHeapFlags})`));
    console.log();
  } finally {
    await Promise.all(processes.map((p) => stopProcess(p)));
    await scratch?.end({ timeout: 5 });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch((err: unknown) => console.error(`dropping ${database} failed:`, err));
    await admin.end({ timeout: 5 });
  }
}

const title = (w: Workload) => w.name[0]!.toUpperCase() + w.name.slice(1);

/** `pgbench (PostgreSQL) 15.4`, or undefined when the tool is not on PATH. */
function versionOf(tool: string): string | undefined {
  try {
    return execFileSync(tool, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return String(u);
}

export interface Cluster {
  /** The processes whose CPU is measured: every service, and the edge. */
  servers: BenchProcess[];
  /** Kills a server process at once (SIGKILL, as a crash), or starts it again as it was. */
  kill(name: string): void;
  restart(name: string): Promise<void>;
  targets: { user: string; warehouse: string; inventory: string; reservation: string; edge: string };
  serviceSecret: string;
  admin: { username: string; password: string };
  /** The administrator's access token (seed fills it in). */
  accessToken: string;
}

/**
 * The user, warehouse and inventory services (and for reservations the reservation service and
 * the edge), each its own process, all on the scratch database.
 */
export async function startCluster(
  w: Workload,
  opts: StockBenchOptions,
  databaseUrl: string,
  processes: BenchProcess[],
  extraEnv: Record<string, string> = {},
): Promise<Cluster> {
  const serviceSecret = randomBytes(32).toString("hex");
  const admin = { username: "bench", password: `Load-${randomBytes(12).toString("base64url")}-7` };
  const [userPort, warehousePort, inventoryPort, reservationPort, edgePort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const targets = {
    user: `127.0.0.1:${userPort}`,
    warehouse: `127.0.0.1:${warehousePort}`,
    inventory: `127.0.0.1:${inventoryPort}`,
    reservation: `127.0.0.1:${reservationPort}`,
    edge: `127.0.0.1:${edgePort}`,
  };
  const env = (port: number) => ({
    GRPC_PORT: String(port),
    GRPC_HOST: "127.0.0.1",
    DATA_DIR: join(opts.workDir, "hold-data"),
    DATABASE_URL: databaseUrl,
    SERVICE_SECRET: serviceSecret,
    USER_GRPC_TARGET: `dns:///${targets.user}`,
    WAREHOUSE_GRPC_TARGET: `dns:///${targets.warehouse}`,
    INVENTORY_GRPC_TARGET: `dns:///${targets.inventory}`,
    RESERVATION_GRPC_TARGET: `dns:///${targets.reservation}`,
  });
  const started = new Map<string, { proc: BenchProcess; again: () => Promise<BenchProcess> }>();
  const serve = async (name: string, entry: string, port: number, extra: Record<string, string> = {}) => {
    const nodeArgs = opts.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${join(opts.profileDir, `${w.name}-${name}`)}`] : [];
    const again = async () => {
      const proc = startProcess(`${w.name}-${name}`, entry, { ...env(port), ...extraEnv, ...extra }, opts.workDir, nodeArgs);
      processes.push(proc);
      await waitForPort(proc, port);
      started.set(name, { proc, again });
      return proc;
    };
    return again();
  };
  const named = (name: string) => {
    const found = started.get(name);
    if (!found) throw new Error(`no server process ${name}`);
    return found;
  };
  // One after another: each migrates its schema in the same database on its first start.
  const servers = [
    await serve("user", "services/user/src/main.ts", userPort, { ADMIN_USERNAME: admin.username, ADMIN_PASSWORD: admin.password, ACCESS_TOKEN_MINUTES: "60" }),
    await serve("warehouse", "services/warehouse/src/main.ts", warehousePort),
    await serve("inventory", "services/inventory/src/main.ts", inventoryPort),
  ];
  if (w.reservations) {
    servers.push(await serve("reservation", "services/reservation/src/main.ts", reservationPort));
    servers.push(
      await serve("edge", "edge/src/main.ts", edgePort, {
        HTTP_PORT: String(edgePort),
        HTTP_HOST: "127.0.0.1",
        // Checked on every request, as in production, but set where the load never reaches them.
        RATE_LIMIT_PER_ADDRESS: String(10 ** 9),
        RATE_LIMIT_PER_USER: String(10 ** 9),
      }),
    );
  }
  return {
    servers,
    targets,
    serviceSecret,
    admin,
    accessToken: "",
    kill: (name) => void named(name).proc.child.kill("SIGKILL"),
    restart: async (name) => void (await named(name).again()),
  };
}

/**
 * Through the services' own APIs, as an administrator: two warehouses, an item type, the spread
 * SKUs and the hot one, and STOCK of each in both warehouses.
 */
export async function seed(c: Cluster, size: { items: number; stock: bigint } = { items: SPREAD_ITEMS, stock: STOCK }): Promise<Seeded> {
  const channel = (target: string, metadata: Record<string, string> = {}) =>
    new GrpcChannel(`dns:///${target}`, { deadlineMs: 60_000, metadata: () => metadata });
  const anonymous = channel(c.targets.user);
  const { accessToken } = await createGrpcClient(UserService, anonymous).login(c.admin);
  anonymous.close();
  c.accessToken = accessToken;
  const auth = { authorization: `Bearer ${accessToken}` };
  const warehouseChannel = channel(c.targets.warehouse, auth);
  const inventoryChannel = channel(c.targets.inventory, auth);
  try {
    const warehouses = createGrpcClient(WarehouseService, warehouseChannel);
    const items = createGrpcClient(ItemService, inventoryChannel);
    const stock = createGrpcClient(StockService, inventoryChannel);
    const run = Date.now().toString(36).toUpperCase();
    const codes = [`HB-${run}-1`, `HB-${run}-2`] as const;
    const warehouseIds = (await Promise.all(
      [100, 50].map(async (priority, i) => {
        const { warehouse } = await warehouses.createWarehouse({
          warehouse: {
            code: codes[i]!,
            name: `Hold bench ${i + 1}`,
            priority,
            address: { line1: `Dock ${i + 1}`, city: "Amsterdam", postalCode: "1011 AB", countryCode: "NL" },
          },
        });
        return warehouse!.id;
      }),
    )) as [string, string];
    const { itemType } = await items.createItemType({ itemType: { name: `Hold bench ${run}` } });
    const skus = Array.from({ length: size.items + 1 }, (_, i) => (i === size.items ? `HB-${run}-HOT` : `HB-${run}-${String(i).padStart(5, "0")}`));
    const ids = await inParallel(
      16,
      skus.map((sku) => async () => (await items.createItem({ item: { sku, name: `Bench item ${sku}`, itemTypeId: itemType!.id } })).item!.id),
    );
    await inParallel(
      16,
      ids.flatMap((itemId) =>
        warehouseIds.map((warehouseId) => async () => {
          await stock.receiveStock({ itemId, warehouseId, quantity: size.stock, idempotencyKey: randomUUID(), reference: "hold bench" });
        }),
      ),
    );
    return { warehouseIds, code: codes[0], spread: ids.slice(0, size.items), hot: ids[size.items]! };
  } finally {
    warehouseChannel.close();
    inventoryChannel.close();
  }
}

async function inParallel<T>(width: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

/**
 * bench.picks: the n-th SKU's item, its stock level in the first warehouse (the one a hold takes
 * from) and its SKU, for pgbench to pick from; n = 0 is the hot SKU, 1..N the spread ones.
 */
async function pickTable(sql: postgres.Sql, s: Seeded) {
  await sql`CREATE SCHEMA bench`;
  await sql`CREATE TABLE bench.picks (n integer PRIMARY KEY, item_id uuid NOT NULL, level_id uuid NOT NULL, sku text NOT NULL)`;
  await sql`
    INSERT INTO bench.picks (n, item_id, level_id, sku)
    SELECT p.n - 1, i.id, l.id, i.sku
    FROM unnest(${[s.hot, ...s.spread]}::uuid[]) WITH ORDINALITY AS p(item_id, n)
    JOIN inventory.items i ON i.id = p.item_id
    JOIN inventory.stock_levels l ON l.item_id = i.id AND l.warehouse_id = ${s.warehouseIds[0]} AND l.location_id IS NULL`;
  const [counted] = await sql<{ count: string }[]>`SELECT count(*) FROM bench.picks`;
  const count = Number(counted?.count);
  if (count !== s.spread.length + 1)
    throw new Error(`bench.picks has ${count} rows, not ${s.spread.length + 1}: the seeded stock is not where the bench put it`);
  await sql`ANALYZE`;
}

/**
 * Autovacuum off for every table of the scratch database: it would start at any moment, its CPU
 * taken from whichever side runs then. The bench vacuums before each run instead, so every run
 * starts from the same clean tables and none pays for another's dead rows.
 */
async function quietTables(sql: postgres.Sql) {
  const tables = await sql<{ name: string }[]>`
    SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`;
  for (const { name } of tables) await sql.unsafe(`ALTER TABLE ${name} SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)`);
}

/** CPU and wake-ups so far of each client backend of the database (by pid), when Postgres runs on this machine. */
async function backendUsage(sql: postgres.Sql, database: string): Promise<Map<number, Usage>> {
  const pids = await sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE datname = ${database} AND backend_type = 'client backend' AND pid <> pg_backend_pid()`;
  const out = new Map<number, Usage>();
  for (const { pid } of pids) {
    if (!isPostgres(pid)) continue;
    const usage = usageOf(pid);
    if (usage !== undefined) out.set(pid, usage);
  }
  return out;
}

/** A pid from pg_stat_activity names a process here only when Postgres runs here (not in a container or elsewhere). */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("postgres");
  } catch {
    return false;
  }
}

/** What the processes of `after` used since `before` (a process new since then, from its start). */
const usageDelta = (before: Map<number, Usage>, after: Map<number, Usage>, only?: (pid: number) => boolean): Usage | undefined => {
  if (after.size === 0) return undefined;
  const sum = { cpuMs: 0, wakeUps: 0 };
  for (const [pid, usage] of after) {
    if (only && !only(pid)) continue;
    sum.cpuMs += usage.cpuMs - (before.get(pid)?.cpuMs ?? 0);
    sum.wakeUps += usage.wakeUps - (before.get(pid)?.wakeUps ?? 0);
  }
  return sum;
};

const POSTGRES = "postgres backends";
const LOAD = "load generator";
const PGBENCH = "pgbench";

/**
 * One run of the workload's load process against the cluster, its warm-up first (in the load
 * process itself); every process's CPU is read around the measured calls alone.
 */
async function serviceRun(
  w: Workload,
  c: Cluster,
  s: Seeded,
  itemsFile: string,
  opts: { seconds: number; warmupSeconds: number },
  clients: number,
  measured: readonly BenchProcess[],
  sql?: postgres.Sql,
  database?: string,
): Promise<Run> {
  const env = {
    ...process.env,
    ...w.loadEnv(c, s, itemsFile),
    CONCURRENCY: String(clients),
    SECONDS: String(opts.seconds),
    WARMUP_SECONDS: String(opts.warmupSeconds),
  };
  const usage = (): Record<string, Usage | undefined> => Object.fromEntries(measured.map((p) => [p.name, usageOf(p.child.pid)]));
  let before: Record<string, Usage | undefined> = {};
  let pgBeforeRead: Promise<Map<number, Usage> | undefined> = Promise.resolve(undefined);
  const result = await runLoadProcess(w.loadScript, env, () => {
    before = usage();
    pgBeforeRead = sql && database ? backendUsage(sql, database) : Promise.resolve(undefined);
  });
  const pgBefore = await pgBeforeRead;
  const pgAfter = sql && database ? await backendUsage(sql, database) : undefined;
  const after = usage();
  const cpuUsPerUnit: Record<string, number> = {};
  const wakeUpsPerUnit: Record<string, number> = {};
  const note = (name: string, used: Usage | undefined) => {
    if (used === undefined || result.requests === 0) return;
    cpuUsPerUnit[name] = (used.cpuMs * 1000) / result.requests;
    wakeUpsPerUnit[name] = used.wakeUps / result.requests;
  };
  for (const [name, end] of Object.entries(after)) {
    const start = before[name];
    note(name.replace(`${w.name}-`, ""), end && start && { cpuMs: end.cpuMs - start.cpuMs, wakeUps: end.wakeUps - start.wakeUps });
  }
  note(POSTGRES, pgBefore && pgAfter ? usageDelta(pgBefore, pgAfter) : undefined);
  note(LOAD, { cpuMs: result.cpuUs / 1000, wakeUps: result.wakeUps });
  return {
    perSecond: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    units: result.requests,
    failures: result.failures,
    errors: result.errors,
    cpuUsPerUnit,
    wakeUpsPerUnit,
  };
}

/**
 * Runs a load process (runLoad in call-loop.ts): calls `measuring` when it says its measured calls
 * begin, and resolves with the result it prints at their end.
 */
function runLoadProcess(script: string, env: NodeJS.ProcessEnv, measuring: () => void): Promise<CallLoopResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, script)], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let result: CallLoopResult | undefined;
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line === MEASURING) measuring();
      else if (line.startsWith("{")) result = JSON.parse(line) as CallLoopResult;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      result && code === 0 ? resolve(result) : reject(new Error(`${script} exited with ${code}${stderr ? `: ${stderr.trim()}` : ""}`)),
    );
  });
}

/**
 * pgbench with holds.pgbench.sql: the same clients, on the spread levels or the hot one; -M
 * prepared by default, the floor (each statement parsed once per connection; the service's driver
 * parses every one each time, as -M extended does). Latencies come from its per-transaction log;
 * the CPU of its backends is sampled while it runs (they end with it).
 */
async function pgbenchRun(
  w: Workload,
  url: string,
  sql: postgres.Sql,
  database: string,
  s: Seeded,
  mode: Mode,
  seconds: number,
  workDir: string,
): Promise<Run> {
  const logDir = join(workDir, `pgbench-${randomBytes(3).toString("hex")}`);
  mkdirSync(logDir);
  const [lo, hi] = mode === "spread" ? [1, s.spread.length] : [0, 0];
  const args = [
    "--no-vacuum",
    `--protocol=${PGBENCH_PROTOCOL}`,
    `--client=${CLIENTS}`,
    `--jobs=${PGBENCH_THREADS}`,
    `--time=${seconds}`,
    `--file=${join(ROOT, w.pgbenchScript)}`,
    `--define=lo=${lo}`,
    `--define=hi=${hi}`,
    `--define=w1=${s.warehouseIds[0]}`,
    `--define=code1=${s.code}`,
    `--define=warehouses=${JSON.stringify(s.warehouseIds).replace(",", ", ")}`,
    // Values of the service's sizes: a SHA-256 in base64url, an audit event of a hold in base64.
    `--define=hash=${randomBytes(32).toString("base64url")}`,
    `--define=event=${randomBytes(252).toString("base64")}`,
    `--define=explanation=1 of 1 from ${s.code}: highest priority (100) with enough stock`,
    "--define=split=false",
    "--define=actor=service:reservation",
    "--log",
    `--log-prefix=${join(logDir, "tx")}`,
    url,
  ];
  const ledger = async () => Number((await sql<{ count: string }[]>`SELECT count(*) FROM inventory.movements`)[0]?.count);
  const entriesBefore = await ledger();
  const others = new Set((await backendUsage(sql, database)).keys());
  // pgbench's own wake-ups are sampled with its backends' (its CPU is read once it has ended).
  const samples: { at: number; usage: Map<number, Usage>; pgbenchWakeUps: number | undefined }[] = [];
  let done = false;
  const childrenBefore = cpuMs(process.pid, "children");
  let pgbenchPid: number | undefined;
  const out = new Promise<string>((resolve, reject) => {
    pgbenchPid = execFile("pgbench", args, { maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      done = true;
      if (err) reject(new Error(`pgbench failed: ${stderr || err.message}`));
      else resolve(stdout);
    }).pid;
  });
  // Awaited once the sampling below is over; a failure meanwhile must not count as unhandled.
  out.catch(() => {});
  while (!done) {
    const usage = await backendUsage(sql, database);
    for (const pid of others) usage.delete(pid);
    const pgbenchWakeUps = wakeUps(pgbenchPid);
    if (!done) samples.push({ at: Date.now() / 1000, usage, pgbenchWakeUps });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const stdout = await out;
  const childrenAfter = cpuMs(process.pid, "children");

  const transactions: { at: number; latencyUs: number }[] = [];
  for (const file of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, file), "utf8").split("\n")) {
      // client_id transaction_no time script_no time_epoch time_us
      const f = line.split(" ");
      if (f.length >= 6) transactions.push({ at: Number(f[4]) + Number(f[5]) / 1e6, latencyUs: Number(f[2]) });
    }
  }
  const latencies = transactions.map((t) => t.latencyUs / 1000).sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.floor((latencies.length - 1) * p)] ?? Number.NaN;
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? Number.NaN);
  const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
  const processed = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? 0);

  const cpuUsPerUnit: Record<string, number> = {};
  const wakeUpsPerUnit: Record<string, number> = {};
  // Backends' CPU and wake-ups (and pgbench's wake-ups) between the first sample with every client
  // connected and the last one before any of them ended, per transaction finished in between.
  const first = samples.find((x) => x.usage.size >= CLIENTS);
  const last = first && samples.findLast((x) => [...first.usage.keys()].every((pid) => x.usage.has(pid)));
  if (first && last && last !== first) {
    const inWindow = transactions.filter((t) => t.at > first.at && t.at <= last.at).length;
    const used = usageDelta(first.usage, last.usage, (pid) => first.usage.has(pid));
    if (used !== undefined && inWindow > 0) {
      cpuUsPerUnit[POSTGRES] = (used.cpuMs * 1000) / inWindow;
      wakeUpsPerUnit[POSTGRES] = used.wakeUps / inWindow;
    }
    if (first.pgbenchWakeUps !== undefined && last.pgbenchWakeUps !== undefined && inWindow > 0)
      wakeUpsPerUnit[PGBENCH] = (last.pgbenchWakeUps - first.pgbenchWakeUps) / inWindow;
  }
  if (childrenBefore !== undefined && childrenAfter !== undefined && processed > 0)
    cpuUsPerUnit[PGBENCH] = ((childrenAfter - childrenBefore) * 1000) / processed;

  // Every transaction must have held: a level that was not updated writes no ledger entry.
  const entries = (await ledger()) - entriesBefore;
  if (entries !== processed) throw new Error(`pgbench ran ${processed} transactions but wrote ${entries} ledger entries: ${w.pgbenchScript} no longer holds`);
  await deleteBenchOutboxRows(sql, w);
  return { perSecond: tps, p50Ms: pct(0.5), p99Ms: pct(0.99), units: processed, failures: failed, errors: [], cpuUsPerUnit, wakeUpsPerUnit };
}

/** The outbox rows pgbench (or the floor) wrote are no audit events: gone before the service runs again. */
async function deleteBenchOutboxRows(sql: postgres.Sql, w: Workload) {
  await sql`DELETE FROM inventory.audit_outbox WHERE next_attempt_at = 'infinity'`;
  if (w.reservations) await sql`DELETE FROM reservation.audit_outbox WHERE next_attempt_at = 'infinity'`;
}

/**
 * Starts a workload's floor servers on the scratch database, each told where the ones before it
 * listen (bench/floor/hold-server.ts says what a floor is).
 */
async function startFloor(w: Workload, databaseUrl: string, s: Seeded, opts: StockBenchOptions, processes: BenchProcess[], cluster: Cluster) {
  const targets: Partial<Cluster["targets"]> = {};
  const procs: BenchProcess[] = [];
  for (const server of w.floor) {
    const port = await freePort();
    const proc = startProcess(
      `${w.name}-${server.name}`,
      server.entry,
      {
        GRPC_PORT: String(port),
        HTTP_PORT: String(port),
        DATABASE_URL: databaseUrl,
        FLOOR_CODE: s.code,
        FLOOR_EVENT: randomBytes(252).toString("base64"),
        FLOOR_HOLD_TARGET: `dns:///${targets.inventory}`,
        FLOOR_GRPC_TARGET: `dns:///${targets.reservation}`,
        FLOOR_USER_TARGET: `dns:///${cluster.targets.user}`,
        SERVICE_SECRET: cluster.serviceSecret,
      },
      opts.workDir,
      opts.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${join(opts.profileDir, `${w.name}-${server.name}`)}`] : [],
    );
    processes.push(proc);
    procs.push(proc);
    await waitForPort(proc, port);
    targets[server.standsFor] = `127.0.0.1:${port}`;
  }
  return { procs, targets };
}

const medianRun = (runs: readonly Run[]): Run | undefined => {
  if (runs.length === 0) return undefined;
  const medians = (of: (r: Run) => Record<string, number>) => {
    const names = [...new Set(runs.flatMap((r) => Object.keys(of(r))))];
    return Object.fromEntries(names.map((n) => [n, median(runs.map((r) => of(r)[n] ?? Number.NaN))]));
  };
  return {
    perSecond: median(runs.map((r) => r.perSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    units: median(runs.map((r) => r.units)),
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
    errors: runs.flatMap((r) => r.errors),
    cpuUsPerUnit: medians((r) => r.cpuUsPerUnit),
    wakeUpsPerUnit: medians((r) => r.wakeUpsPerUnit),
  };
};

type Side = "service" | "floor" | "pgbench";
const SIDES: readonly Side[] = ["service", "floor", "pgbench"];
type Runs = Record<Side, Record<Mode, Run[]>>;

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "?");
const ms = (n: number) => (!Number.isFinite(n) ? "?" : n < 10 ? n.toFixed(2) : n.toFixed(1));

function rateTable(w: Workload, runs: Runs, withPgbench: boolean): string {
  const rows: string[][] = [["", `${w.unit}/s`, "p50 ms", "p99 ms", "failures"]];
  const label = { spread: `spread (${SPREAD_ITEMS} SKUs)`, hot: "hot (1 SKU)" };
  for (const mode of ["spread", "hot"] as const) {
    for (const side of SIDES) {
      const r = medianRun(runs[side][mode]);
      if (r) rows.push([`${side}, ${label[mode]}`, int(r.perSecond), ms(r.p50Ms), ms(r.p99Ms), String(r.failures)]);
    }
  }
  const ratios = (a: Side, b: Side, target?: Record<Mode, number>) => {
    for (const mode of ["spread", "hot"] as const) {
      const x = medianRun(runs[a][mode]);
      const y = medianRun(runs[b][mode]);
      if (!x || !y) continue;
      const ratio = x.perSecond / y.perSecond;
      const verdict = target ? ` ${ratio >= target[mode] ? "ok" : "MISSED"}` : "";
      rows.push([`${a} / ${b}, ${mode}`, `${ratio.toFixed(2)}x${verdict}`, `${(x.p50Ms / y.p50Ms).toFixed(2)}x`, `${(x.p99Ms / y.p99Ms).toFixed(2)}x`, ""]);
    }
  };
  if (withPgbench) {
    ratios("service", "pgbench", w.targets);
    rows.push(["target", `>= ${w.targets.spread.toFixed(2)}x spread, >= ${w.targets.hot.toFixed(2)}x hot`, "", "", ""]);
    ratios("floor", "pgbench");
  }
  ratios("service", "floor");
  return formatRows(rows, `[${w.name}]`);
}

/** What a per-unit table shows: CPU µs, or wake-ups. */
interface Metric {
  heading: string;
  of(r: Run): Record<string, number>;
  format(n: number): string;
}

const CPU: Metric = { heading: "CPU us per", of: (r) => r.cpuUsPerUnit, format: int };
const WAKE_UPS: Metric = {
  heading: "wake-ups per",
  of: (r) => r.wakeUpsPerUnit,
  format: (n) => (Number.isFinite(n) ? n.toFixed(1) : "?"),
};

/**
 * Where the CPU (or the wake-ups) went per unit of work: the service's processes, the database's
 * backends, the load; then the service's as ratios to pgbench's.
 */
function perUnitTable(metric: Metric, w: Workload, runs: Runs, withPgbench: boolean): string {
  const rows: string[][] = [[`${metric.heading} ${w.unit.replace(/s$/, "")}`, "spread", "hot"]];
  const sides = SIDES.filter((side) => runs[side].spread.length > 0 && runs[side].hot.length > 0);
  const total = (r: Run) => Object.values(metric.of(r)).reduce((a, b) => a + b, 0);
  const of = (side: Side) => ({ spread: medianRun(runs[side].spread)!, hot: medianRun(runs[side].hot)! });
  for (const side of sides) {
    const { spread, hot } = of(side);
    for (const name of Object.keys(metric.of(spread)))
      rows.push([`${side}: ${name}`, metric.format(metric.of(spread)[name]!), metric.format(metric.of(hot)[name] ?? Number.NaN)]);
    rows.push([`${side}: total`, metric.format(total(spread)), metric.format(total(hot))]);
  }
  if (withPgbench) {
    const service = of("service");
    const pg = of("pgbench");
    const backends = (r: Run) => metric.of(r)[POSTGRES] ?? Number.NaN;
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    rows.push([`${POSTGRES}, service / pgbench`, ratio(backends(service.spread), backends(pg.spread)), ratio(backends(service.hot), backends(pg.hot))]);
    rows.push(["total, service / pgbench", ratio(total(service.spread), total(pg.spread)), ratio(total(service.hot), total(pg.hot))]);
    if (sides.includes("floor")) {
      const floor = of("floor");
      rows.push([`${POSTGRES}, floor / pgbench`, ratio(backends(floor.spread), backends(pg.spread)), ratio(backends(floor.hot), backends(pg.hot))]);
      rows.push(["total, floor / pgbench", ratio(total(floor.spread), total(pg.spread)), ratio(total(floor.hot), total(pg.hot))]);
    }
  }
  return formatRows(rows);
}
