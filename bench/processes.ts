import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildPrograms, programs } from "@inv/build";
import { defaultProcessMemoryMiB, heapFlags } from "@inv/service-catalog";

/** The repository root: children run from here, as in `npm start` and the image. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The floors' servers (the edge bench's two, the stock benches' three), compiled like the programs they stand beside. */
const floor = ["grpc-server", "http-server", "hold-server", "reservation-server", "reservation-http-server"].map((name) => ({
  source: `bench/floor/${name}.ts`,
  compiled: `bench/dist/floor-${name}.js`,
}));
/** What the bench starts: each service process on its own, the edge, the floor. */
const servers = [...programs.filter((p) => p.source.startsWith("services/") || p.source.startsWith("edge/")), ...floor];
const compiledOf = new Map(servers.map((p) => [p.source, p.compiled]));

/**
 * Compiles every server the bench starts, as `npm run build` does for the image: the bench
 * measures the processes production runs, plain JavaScript with no TypeScript loader in them.
 */
export async function compileServers(): Promise<void> {
  await buildPrograms({ only: servers });
}

/** A process the bench started, with where its output went. */
export interface BenchProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
}

/**
 * The V8 flags a server runs with: the catalog's for a process given the default task memory, as
 * compose and the deployment start them. The floor's servers get them too, each those of the
 * process it stands for (its HTTP server the edge's, its gRPC server a service's), so both sides
 * of a ratio run on the same runtime settings.
 */
const edgeLike = new Set(["edge/src/main.ts", "bench/floor/http-server.ts", "bench/floor/reservation-http-server.ts"]);
export const heapFlagsOf = (entry: string) => heapFlags(defaultProcessMemoryMiB, edgeLike.has(entry) ? "edge" : "service");
/** The flags, for the tables' headings. */
export const serverHeapFlags = `services: node ${heapFlags(defaultProcessMemoryMiB).join(" ")}; edge: node ${heapFlags(defaultProcessMemoryMiB, "edge").join(" ")}`;

/**
 * Starts a server the way production does: its entry point compiled (`compileServers` first),
 * its own Node process with the deployment's heap flags, configured through the environment, logs
 * to a file (as a container's stdout would go to a log driver) so the bench never blocks on a pipe
 * it forgot to read.
 */
export function startProcess(name: string, entry: string, env: Record<string, string>, logDir: string, nodeArgs: readonly string[] = []): BenchProcess {
  const compiled = compiledOf.get(entry);
  if (!compiled) throw new Error(`${entry} is not a program the bench compiles`);
  const logFile = join(logDir, `${name}.log`);
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, [...nodeArgs, "--enable-source-maps", ...heapFlagsOf(entry), join(ROOT, compiled)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  child.once("exit", (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`${name} exited with ${code}; see ${logFile}\n`);
  });
  return { name, child, logFile };
}

/** A port nobody listens on right now (the small race until the child binds it is fine on loopback). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

/** Resolves once something accepts TCP connections on the port; fails if the process dies first. */
export async function waitForPort(proc: BenchProcess, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited before listening; see ${proc.logFile}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${proc.name} did not listen on ${port} within ${timeoutMs} ms; see ${proc.logFile}`);
}

/** Resident set size in MiB, read from outside the process so the servers need no bench hooks. */
export function rssMiB(proc: BenchProcess): number | undefined {
  if (proc.child.pid === undefined || proc.child.exitCode !== null) return undefined;
  try {
    const kib = Number(execFileSync("ps", ["-o", "rss=", "-p", String(proc.child.pid)], { encoding: "utf8" }).trim());
    return Number.isFinite(kib) ? kib / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM (services drain and exit), then SIGKILL if one lingers. */
export async function stopProcess(proc: BenchProcess, graceMs = 5_000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.child.once("exit", () => resolve()));
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time a process has used so far, in ms (user + system), from /proc; undefined where there
 * is no /proc. With `children`, the CPU of its finished children instead (the load generator).
 * CPU per request is steadier than throughput on a machine other work shares.
 */
export function cpuMs(pid: number | undefined, which: "self" | "children" = "self"): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may itself hold spaces: utime is the 14th field overall.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const [user, system] = which === "self" ? [fields[11], fields[12]] : [fields[13], fields[14]];
    return ((Number(user) + Number(system)) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * How often a process has gone to sleep and been woken so far: the voluntary context switches of
 * all its threads, from /proc (undefined where there is none). With CPU per unit of work it tells
 * whether a process costs much because it is woken often (each wake-up has a price of its own on
 * a virtual machine: machine.ts) or because of the work it does once awake.
 */
export function wakeUps(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    let sum = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, "utf8");
      sum += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    }
    return sum;
  } catch {
    return undefined;
  }
}

/** What the bench reads of a process around a run: CPU ms and wake-ups so far. */
export interface Usage {
  cpuMs: number;
  wakeUps: number;
}

export function usageOf(pid: number | undefined): Usage | undefined {
  const cpu = cpuMs(pid);
  const woken = wakeUps(pid);
  return cpu === undefined || woken === undefined ? undefined : { cpuMs: cpu, wakeUps: woken };
}
