/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. BENCH_CPU_PROF=<dir> npm run bench):
 * top functions by self time, and self time by package, so a profile can be read without a UI.
 * Usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top=25] [last=<seconds>]
 * With last=N only the samples of the profile's last N seconds count: the measured runs, without
 * the start and the seeding before them.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, lastArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [top] [last=<seconds>]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const lastUs = lastArg ? Number(lastArg.replace(/^last=/, "")) * 1e6 : Number.POSITIVE_INFINITY;

// Self time of a node = the time deltas of the samples taken while it was on top of the stack.
// Sample times are the deltas' running sum; they end at the profile's end time.
const sampledUs = profile.timeDeltas.reduce((a, b) => a + b, 0);
const selfUs = new Map<number, number>();
let at = 0;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (sampledUs - at > lastUs) return;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "");
  add(byFunction, `${functionName || "(anonymous)"}  ${where ? `${where}:${lineNumber + 1}` : ""}`, us);
  add(byPackage, packageOf(url, functionName), us);
}

// Inclusive time: every function on the stack of a sample gets its time, once per sample.
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
    if (!url) continue;
    const key = `${functionName || "(anonymous)"}  ${url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "")}:${lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    add(inclusive, key, us);
  }
}

const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const top = Number(topArg ?? 25);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nself time by package`);
for (const [name, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${name}`);
console.log("\nself time by function");
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${name}`);

console.log("\ntotal (self + callees) by function");
for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${name}`);

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const path = url.replace(/^file:\/\//, "");
  const root = fileURLToPath(new URL("..", import.meta.url));
  // This repository's own files, by workspace: "edge/src", "packages/platform", ...
  return path.startsWith(root) ? path.slice(root.length).split("/").slice(0, 2).join("/") : path;
}
