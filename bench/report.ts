import type { Comparison, Measured } from "./compare.js";

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const ratio = (n: number) => `${n.toFixed(2)}x`;

const totalCpu = (m: Measured) => Object.values(m.cpuUsPerRequest).reduce((a, b) => a + b, 0);

/** The table the bench exists for: each way through the edge against the floor, with the targets. */
export function edgeVsFloorTable(r: Comparison): string {
  const rows: string[][] = [["", `req/s @${r.low}`, `req/s @${r.high}`, `p50 @${r.high} ms`, `p99 @${r.high} ms`, "failures"]];
  for (const x of [...r.sides, r.floor]) {
    rows.push([x.side.name, int(x.low.rps), int(x.high.rps), ms(x.high.p50Ms), ms(x.high.p99Ms), String(x.low.failures + x.high.failures)]);
  }
  const mark = (value: number, ok: boolean) => `${ratio(value)} ${ok ? "ok" : "MISSED"}`;
  for (const x of r.sides) {
    const p99 = x.high.p99Ms / r.floor.high.p99Ms;
    const low = x.low.rps / r.floor.low.rps;
    const high = x.high.rps / r.floor.high.rps;
    rows.push([`${x.side.name} / floor`, mark(low, low >= 0.8), mark(high, high >= 0.8), ratio(x.high.p50Ms / r.floor.high.p50Ms), mark(p99, p99 <= 1.5), ""]);
  }
  rows.push(["target", ">= 0.80x", ">= 0.80x", "", "<= 1.50x", ""]);
  return formatRows(rows, `[${r.tool}]`);
}

/** Where the CPU went, per request, process by process: steadier than throughput on a busy machine. */
export function cpuTable(r: Comparison): string {
  const rows: string[][] = [["CPU us per request", `@${r.low}`, `@${r.high}`]];
  for (const x of [...r.sides, r.floor]) {
    for (const name of Object.keys(x.high.cpuUsPerRequest)) {
      rows.push([`${x.side.name}: ${name}`, int(x.low.cpuUsPerRequest[name] ?? Number.NaN), int(x.high.cpuUsPerRequest[name] ?? Number.NaN)]);
    }
    rows.push([`${x.side.name}: total`, int(totalCpu(x.low)), int(totalCpu(x.high))]);
  }
  for (const x of r.sides) {
    rows.push([`${x.side.name} / floor, total`, ratio(totalCpu(x.low) / totalCpu(r.floor.low)), ratio(totalCpu(x.high) / totalCpu(r.floor.high))]);
  }
  return formatRows(rows);
}

export function formatRows(rows: readonly (readonly string[])[], title = ""): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const lines = rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("   "));
  return [title, ...lines].filter(Boolean).join("\n");
}
