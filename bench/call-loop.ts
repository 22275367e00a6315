import type { LoadResult } from "./load.js";

/** What a stock bench's load process prints. */
export interface CallLoopResult extends LoadResult {
  /** The first few failures, as the caller described them. */
  errors: string[];
  /** This process's CPU during the measured calls, in µs (its start, tsx's compile included, is not). */
  cpuUs: number;
}

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
  };
}
