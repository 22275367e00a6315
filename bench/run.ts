/**
 * npm run bench: what the edge costs, measured as production runs it. The warehouse service and
 * the edge run as separate processes; a separate load process drives REST GET /v1/warehouses/{id}
 * at a low and a high connection count. In the same run the bench measures the floor of this
 * architecture — bare node:http making one grpc-js call per request to a grpc-js server that
 * answers from a Map — and prints the edge's figures as ratios to it, so noise from a shared
 * machine mostly cancels out. Every request carries a bearer token, as production traffic does:
 * the edge and the service check it (the user service runs beside them), the floor ignores it. A second edge process in front of the floor's gRPC server tells
 * the edge's own cost apart from the warehouse service's. Bounded: fixed durations, loopback
 * only; it asserts nothing.
 *
 * Then the stock benches (stock.ts), on Postgres against pgbench running the same SQL on the same
 * database: holds (HoldStock straight over gRPC to the inventory service) and reservations (POST
 * /v1/reservations through the edge and the reservation service). They need DATABASE_URL (and
 * pgbench on PATH for the comparison) and are skipped with a line without it.
 *
 * Then the export bench (export.ts): ExportReport streaming a 1,000,000-row movement report as CSV
 * against a 10,000-row one in the same run, printing memory growth as a ratio (bounded: ~1x).
 *
 * Before all of it, one line about the machine (machine.ts): what a wake-up and a small JSON round
 * trip cost on it now, to tell one day's figures from another's.
 *
 * Env: BENCH_ONLY=edge|holds|reservations|export (one part only; all by default), BENCH_DURATION (seconds per run,
 * 4), BENCH_ROUNDS (runs per cell, median reported, 1), BENCH_JIT_WARMUP (seconds of load per path
 * before its first measured run, 10), BENCH_PROTOCOLS=1 (also gRPC direct vs
 * REST vs Connect), BENCH_CPU_PROF=<dir> (CPU profiles of the servers, see profile-summary.ts),
 * DATABASE_URL (warehouse on Postgres instead of embedded PGlite; the stock benches' server),
 * BENCH_HOLD_ITEMS (spread SKUs of the stock benches, 1000), BENCH_PGBENCH_PROTOCOL (prepared or
 * extended, pgbench's -M; prepared), BENCH_LOG_SQL=1 (the hold bench's statements in the
 * Postgres server's log), LOG_LEVEL (of the edge and the services; their default is info).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compare, type Side } from "./compare.js";
import { exportBench } from "./export.js";
import { describeMachine, readMachine } from "./machine.js";
import postgres from "postgres";
import { holdBench, reservationBench, withDatabase } from "./stock.js";
import { autocannon, availableTools, type LoadSpec } from "./load.js";
import { compileServers, freePort, rssMiB, serverHeapFlags, startProcess, stopProcess, waitForPort, type BenchProcess } from "./processes.js";
import { protocolsTable } from "./protocols.js";
import { cpuTable, edgeVsFloorTable, formatRows } from "./report.js";

const SECONDS = Number(process.env["BENCH_DURATION"] ?? 4);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 1);
const WARMUP_SECONDS = 1;
/** Load on each path once before its first measured run, until V8 has compiled what it calls (see "Warm-up" in README.md). */
const JIT_WARMUP_SECONDS = Number(process.env["BENCH_JIT_WARMUP"] ?? 10);
const LOW = 16;
const HIGH = 200;

const only = process.env["BENCH_ONLY"] || undefined;
const PARTS = ["edge", "holds", "reservations", "export"] as const;
if (only !== undefined && !(PARTS as readonly string[]).includes(only)) throw new Error(`BENCH_ONLY is one of ${PARTS.join(", ")}, not "${only}"`);

console.log(describeMachine(await readMachine()));
await compileServers();
const workDir = mkdtempSync(join(tmpdir(), "inv-bench-"));
const profileDir = process.env["BENCH_CPU_PROF"];
const processes: BenchProcess[] = [];

/** Starts a server process and waits until it listens. */
async function serve(name: string, entry: string, env: Record<string, string>, port: number): Promise<BenchProcess> {
  // A folder per process, so each one's profiles stay apart.
  const nodeArgs = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, name)}`] : [];
  const proc = startProcess(name, entry, env, workDir, nodeArgs);
  processes.push(proc);
  await waitForPort(proc, port);
  return proc;
}

const SERVICE_SECRET = randomBytes(32).toString("hex");
const ADMIN = { username: "bench", password: `Load-${randomBytes(12).toString("base64url")}-7` };

const edgeEnv = (port: number, warehouseTarget: string, userTarget: string) => ({
  HTTP_PORT: String(port),
  HTTP_HOST: "127.0.0.1",
  WAREHOUSE_GRPC_TARGET: `dns:///${warehouseTarget}`,
  USER_GRPC_TARGET: `dns:///${userTarget}`,
  SERVICE_SECRET,
  // The limits are checked on every request, as in production, but set where the load never
  // reaches them: the bench measures what a request costs, not what the quota allows.
  RATE_LIMIT_PER_ADDRESS: String(10 ** 9),
  RATE_LIMIT_PER_USER: String(10 ** 9),
});

let succeeded = false;
try {
  const stockOptions = { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, jitWarmupSeconds: JIT_WARMUP_SECONDS, rounds: ROUNDS, workDir, profileDir };
  if (only === undefined || only === "edge") await onScratchDatabase(edgeBench);
  if (only === undefined || only === "holds") await holdBench(stockOptions);
  if (only === undefined || only === "reservations") await reservationBench(stockOptions);
  if (only === undefined || only === "export") await exportBench();
  succeeded = true;
} finally {
  await Promise.all(processes.map((p) => stopProcess(p)));
  // A failed run keeps the processes' logs for a look at what went wrong.
  if (succeeded) rmSync(workDir, { recursive: true, force: true });
  else console.error(`logs kept in ${workDir}`);
}

/**
 * With DATABASE_URL, runs the edge bench on a scratch database of that server (its services'
 * schemas and first administrator are made afresh, and dropped after), so a run never meets what
 * an earlier one left (an administrator with another password) and touches nothing else there.
 */
async function onScratchDatabase(bench: (databaseUrl: string | undefined) => Promise<void>): Promise<void> {
  const url = process.env["DATABASE_URL"];
  if (!url) return bench(undefined);
  const database = `inv_edge_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${database}"`);
  try {
    await bench(withDatabase(url, database));
  } finally {
    await Promise.all(processes.splice(0).map((p) => stopProcess(p)));
    await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  }
}

/** The edge against the floor: the tables this bench began with. */
async function edgeBench(databaseUrl: string | undefined) {
  const [userPort, warehousePort, edgePort, floorGrpcPort, floorHttpPort, edgeOverMapPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const warehouseTarget = `127.0.0.1:${warehousePort}`;
  const userTarget = `127.0.0.1:${userPort}`;
  const serviceEnv = (port: number) => ({
    GRPC_PORT: String(port),
    GRPC_HOST: "127.0.0.1",
    DATA_DIR: join(workDir, "data"),
    ...(databaseUrl && { DATABASE_URL: databaseUrl }),
    SERVICE_SECRET,
    USER_GRPC_TARGET: `dns:///${userTarget}`,
  });
  const userEnv = { ...serviceEnv(userPort), ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, ACCESS_TOKEN_MINUTES: "60" };
  const [, warehouse, edge] = await Promise.all([
    serve("user", "services/user/src/main.ts", userEnv, userPort),
    serve("warehouse", "services/warehouse/src/main.ts", serviceEnv(warehousePort), warehousePort),
    serve("edge", "edge/src/main.ts", edgeEnv(edgePort, warehouseTarget, userTarget), edgePort),
  ]);

  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  const headers = { authorization: `Bearer ${await login(edgeUrl)}` };
  const id = await createWarehouse(edgeUrl, headers);
  const path = `/v1/warehouses/${id}`;
  const warehouseJson = await (await fetch(`${edgeUrl}${path}`, { headers })).text();

  const floorGrpc = await serve(
    "floor-grpc",
    "bench/floor/grpc-server.ts",
    { GRPC_PORT: String(floorGrpcPort), FLOOR_WAREHOUSE: warehouseJson },
    floorGrpcPort,
  );
  const [floorHttp, edgeOverMap] = await Promise.all([
    serve(
      "floor-http",
      "bench/floor/http-server.ts",
      { HTTP_PORT: String(floorHttpPort), FLOOR_GRPC_TARGET: `dns:///127.0.0.1:${floorGrpcPort}` },
      floorHttpPort,
    ),
    serve("edge-over-map", "edge/src/main.ts", edgeEnv(edgeOverMapPort, `127.0.0.1:${floorGrpcPort}`, userTarget), edgeOverMapPort),
  ]);
  const sides: Side[] = [
    { name: "edge", url: `${edgeUrl}${path}`, headers, processes: [edge, warehouse] },
    { name: "edge over Map", url: `http://127.0.0.1:${edgeOverMapPort}${path}`, headers, processes: [edgeOverMap, floorGrpc] },
  ];
  const floor: Side = { name: "floor", url: `http://127.0.0.1:${floorHttpPort}${path}`, headers, processes: [floorHttp, floorGrpc] };
  for (const side of [...sides, floor]) {
    const body = await (await fetch(side.url, { headers })).text();
    if (body !== warehouseJson) throw new Error(`${side.name} answers ${body}, the edge ${warehouseJson}`);
  }

  const storage = process.env["DATABASE_URL"] ? "Postgres (DATABASE_URL)" : "embedded PGlite";
  console.log(
    `\nGET /v1/warehouses/{id}, load from a separate process, ${SECONDS} s per run after ${WARMUP_SECONDS} s of warm-up (and ${JIT_WARMUP_SECONDS} s per path before its first), median of ${ROUNDS} round(s)`,
  );
  console.log(`  edge:          edge -> warehouse service (${storage}, read cache warm), as deployed, with a bearer token`);
  console.log("  edge over Map: edge -> the floor's gRPC server: the edge's own cost, without the service's");
  console.log("  floor:         bare node:http -> grpc-js -> grpc-js server answering from a Map\n");

  // Once per path before its first measured run: until V8 has compiled the request path, a run
  // measures the compiler (see "Warm-up" in README.md). Not measured.
  for (const side of [floor, ...sides]) await autocannon.run({ url: side.url, headers: side.headers, connections: LOW, seconds: JIT_WARMUP_SECONDS });

  for (const tool of availableTools()) {
    const result = await compare(tool, sides, floor, { low: LOW, high: HIGH, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS });
    console.log(`${edgeVsFloorTable(result)}\n\n${cpuTable(result)}\n`);
  }

  if (process.env["BENCH_PROTOCOLS"] === "1") {
    const warmup = async (spec: LoadSpec) => void (await autocannon.run({ ...spec, seconds: WARMUP_SECONDS }));
    console.log(
      `${await protocolsTable({ edgeUrl, warehouseTarget, id, authorization: headers.authorization, seconds: SECONDS, connections: LOW, warmup })}\n`,
    );
  }

  const rss = processes.map((p) => [p.name, `${rssMiB(p)?.toFixed(0) ?? "?"} MiB`, `${countLines(p.logFile)} lines`]);
  console.log(formatRows([["process", "RSS after the run", "log"], ...rss], `Memory and log volume (${serverHeapFlags})`));
  await fetch(`${edgeUrl}${path}`, { method: "DELETE", headers });
  // The hold bench runs next on the same cores: nothing of this part keeps running beside it.
  await Promise.all(processes.map((p) => stopProcess(p)));
}

/** Signs in as the bench's administrator (created by the user service at its first start). */
async function login(edgeUrl: string): Promise<string> {
  const res = await fetch(`${edgeUrl}/v1/auth:login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) });
  if (!res.ok) throw new Error(`signing in failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** A warehouse with a realistic body (address included), with a code no earlier run used. */
async function createWarehouse(edgeUrl: string, headers: Record<string, string>): Promise<string> {
  const code = `BENCH-${Date.now().toString(36).toUpperCase()}`;
  const res = await fetch(`${edgeUrl}/v1/warehouses`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ code, name: "Bench DC", priority: 10, address: { line1: "Dock 4", city: "Amsterdam", postalCode: "1011 AB", countryCode: "NL" } }),
  });
  if (!res.ok) throw new Error(`creating the bench warehouse failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

function countLines(file: string): number {
  try {
    return readFileSync(file, "utf8").split("\n").length - 1;
  } catch {
    return 0;
  }
}
