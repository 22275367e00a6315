import type { LoadResult } from "./load.js";

/** What a stock bench's load process prints. */
export interface CallLoopResult extends LoadResult {
  /** The first few failures, as the caller described them. */
  errors: string[];
  /** This process's CPU during the measured calls, in µs (its start, tsx's compile and the warm-up are not). */
  cpuUs: number;
  /** This process's wake-ups during the measured calls (voluntary context switches). */
  wakeUps: number;
}

/**
 * The line a load process prints when its warm-up is over and the measured calls begin: the bench
 * reads every process's CPU from there, so that neither side's warm-up is counted.
 */
export const MEASURING = "measuring";

/**
 * Calls `call` from `concurrency` callers, each making its next call when its last one answered,
 * for `seconds`; `call` resolves whether the call succeeded and may note why not in `errors`.
 */
export async function callLoop(call: () => Promise<boolean>, concurrency: number, seconds: number, errors: string[]): Promise<CallLoopResult> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const cpuAtStart = process.cpuUsage();
  const wokenAtStart = process.resourceUsage().voluntaryContextSwitches;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        if (!(await call())) failures++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const cpu = process.cpuUsage(cpuAtStart);
  const woken = process.resourceUsage().voluntaryContextSwitches - wokenAtStart;
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.floor((latencies.length - 1) * p)] ?? Number.NaN;
  return {
    rps: latencies.length / elapsed,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    requests: latencies.length,
    failures,
    errors,
    cpuUs: cpu.user + cpu.system,
    wakeUps: woken,
  };
}

/**
 * A load process's run, as the stock benches drive it (env CONCURRENCY, SECONDS, WARMUP_SECONDS):
 * the warm-up in this same process, so that the measured calls run on code V8 has already
 * optimised (a fresh process spent the first seconds of a 4 s run compiling its own client, and
 * took that CPU from the services it measured); then MEASURING, then the measured calls, then
 * their CallLoopResult as JSON, each on a line of its own.
 */
export async function runLoad(call: () => Promise<boolean>, errors: string[]): Promise<void> {
  const concurrency = Number(process.env["CONCURRENCY"]);
  const warmup = Number(process.env["WARMUP_SECONDS"] ?? 0);
  if (warmup > 0) await callLoop(call, concurrency, warmup, []);
  // `call` notes its failures in `errors` itself: the warm-up's are not the measured run's.
  errors.length = 0;
  process.stdout.write(`${MEASURING}\n`);
  const result = await callLoop(call, concurrency, Number(process.env["SECONDS"]), errors);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
