import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** What one bounded load run measured. */
export interface LoadResult {
  /** Completed requests per second (2xx and otherwise; failures are counted separately). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests completed in the measured time. */
  requests: number;
  /** Non-2xx answers, socket errors and timeouts: a run with failures is not a fair number. */
  failures: number;
}

export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  method?: "GET" | "POST";
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadTool {
  readonly name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

const run = (file: string, args: readonly string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(file, args, { maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );

/**
 * autocannon from npm, in its own Node process (the load must not share an event loop with
 * anything it measures). Always there after `npm ci`.
 */
export const autocannon: LoadTool = {
  name: "autocannon",
  async run(spec) {
    const cli = fileURLToPath(import.meta.resolve("autocannon/autocannon.js"));
    const args = [cli, "--json", "--no-progress", "-c", String(spec.connections), "-d", String(spec.seconds), "-m", spec.method ?? "GET"];
    for (const [name, value] of Object.entries(spec.headers ?? {})) args.push("-H", `${name}=${value}`);
    if (spec.body !== undefined) args.push("-b", spec.body);
    const out = JSON.parse(await run(process.execPath, [...args, spec.url])) as {
      requests: { total: number };
      duration: number;
      latency: { p50: number; p99: number };
      non2xx: number;
      errors: number;
      timeouts: number;
    };
    return {
      rps: out.requests.total / out.duration,
      p50Ms: out.latency.p50,
      p99Ms: out.latency.p99,
      requests: out.requests.total,
      failures: out.non2xx + out.errors + out.timeouts,
    };
  },
};

/** wrk, when it is installed: a C load generator that takes less CPU away from the servers. */
export const wrk: LoadTool = {
  name: "wrk",
  async run(spec) {
    if (spec.method === "POST") throw new Error("the bench drives wrk with GET only");
    const threads = Math.min(2, spec.connections);
    const headers = Object.entries(spec.headers ?? {}).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
    const out = await run("wrk", ["-t", String(threads), "-c", String(spec.connections), "-d", `${spec.seconds}s`, "--latency", ...headers, spec.url]);
    const number = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? 0);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    return {
      rps: number(/Requests\/sec:\s+([\d.]+)/),
      p50Ms: wrkLatencyMs(out, "50%"),
      p99Ms: wrkLatencyMs(out, "99%"),
      requests: number(/(\d+) requests in/),
      failures: number(/Non-2xx or 3xx responses: (\d+)/) + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
    };
  },
};

function wrkLatencyMs(out: string, percentile: string): number {
  const match = new RegExp(`^\\s+${percentile}\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
  if (!match) return Number.NaN;
  const scale = { us: 1 / 1000, ms: 1, s: 1000 }[match[2] as "us" | "ms" | "s"];
  return Number(match[1]) * scale;
}

/** autocannon always; wrk too when it is on PATH. */
export function availableTools(): LoadTool[] {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [autocannon];
  }
  return [autocannon, wrk];
}

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The median of each figure over repeated runs of the same load. */
export function medianOf(runs: readonly LoadResult[]): LoadResult {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    requests: median(runs.map((r) => r.requests)),
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
  };
}
