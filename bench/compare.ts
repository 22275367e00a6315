import { cpuMs, type BenchProcess } from "./processes.js";
import type { LoadResult, LoadSpec, LoadTool } from "./load.js";
import { median, medianOf } from "./load.js";

/** One way of answering GET /v1/warehouses/{id}: the processes that serve it and its URL. */
export interface Side {
  name: string;
  url: string;
  /** Sent with every request (the caller's credentials). */
  headers?: Record<string, string>;
  processes: readonly BenchProcess[];
}

/** A load run, with the CPU each serving process (and the load generator) spent per request. */
export interface Measured extends LoadResult {
  cpuUsPerRequest: Record<string, number>;
}

export const LOAD_GENERATOR = "load generator";

/**
 * Warms up, then measures one side under one load. CPU is read around the measured part only:
 * the servers' own /proc counters, and this process's reaped children for the load generator.
 */
export async function measure(tool: LoadTool, side: Side, spec: LoadSpec, warmupSeconds: number): Promise<Measured> {
  await tool.run({ ...spec, seconds: warmupSeconds });
  const cpu = (): Record<string, number | undefined> => ({
    ...Object.fromEntries(side.processes.map((p) => [p.name, cpuMs(p.child.pid)])),
    [LOAD_GENERATOR]: cpuMs(process.pid, "children"),
  });
  const before = cpu();
  const result = await tool.run(spec);
  const after = cpu();
  const cpuUsPerRequest: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after)) {
    const start = before[name];
    if (ms !== undefined && start !== undefined && result.requests > 0) cpuUsPerRequest[name] = ((ms - start) * 1000) / result.requests;
  }
  return { ...result, cpuUsPerRequest };
}

export function medianMeasured(runs: readonly Measured[]): Measured {
  const names = Object.keys(runs[0]?.cpuUsPerRequest ?? {});
  const cpuUsPerRequest = Object.fromEntries(names.map((n) => [n, median(runs.map((r) => r.cpuUsPerRequest[n] ?? Number.NaN))]));
  return { ...medianOf(runs), cpuUsPerRequest };
}

export interface SideResult {
  side: Side;
  low: Measured;
  high: Measured;
}

export interface Comparison {
  tool: string;
  low: number;
  high: number;
  /** The ways through the edge, in the order given. */
  sides: SideResult[];
  floor: SideResult;
}

export interface CompareOptions {
  low: number;
  high: number;
  seconds: number;
  warmupSeconds: number;
  rounds: number;
}

/** Every side and the floor at both connection counts, `rounds` times, alternating the order. */
export async function compare(tool: LoadTool, sides: readonly Side[], floor: Side, opts: CompareOptions): Promise<Comparison> {
  const all = [floor, ...sides];
  const runs = new Map(all.map((side) => [side, { low: [] as Measured[], high: [] as Measured[] }]));
  for (let round = 0; round < opts.rounds; round++) {
    // A neighbour's burst of CPU use should not always land on the same side.
    const order = round % 2 === 0 ? all : [...all].reverse();
    for (const size of ["low", "high"] as const) {
      for (const side of order) {
        runs
          .get(side)!
          [size].push(await measure(tool, side, { url: side.url, headers: side.headers, connections: opts[size], seconds: opts.seconds }, opts.warmupSeconds));
      }
    }
  }
  const resultOf = (side: Side): SideResult => ({ side, low: medianMeasured(runs.get(side)!.low), high: medianMeasured(runs.get(side)!.high) });
  return { tool: tool.name, low: opts.low, high: opts.high, sides: sides.map(resultOf), floor: resultOf(floor) };
}
