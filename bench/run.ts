/**
 * npm run bench: what the edge costs. The whole cluster runs on the embedded default; the same
 * GetWarehouse is made straight over gRPC (the baseline, measured in this same run), then over
 * REST and the Connect protocol through the edge. Prints throughput, latency and the ratio to
 * the baseline, and the process's memory. Bounded: a fixed number of calls on loopback only.
 */
import { startTestCluster } from "@inv/cluster/testing";
import { GrpcChannel, createGrpcClient } from "@inv/platform";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";

const CALLS = Number(process.env["BENCH_CALLS"] ?? 3_000);
const CONCURRENCY = 16;

async function measure(label: string, call: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await call(i); // warm up
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        const i = next++;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.floor((latencies.length - 1) * p)]!.toFixed(2);
  return { label, opsPerSecond: CALLS / seconds, p50: pct(0.5), p99: pct(0.99) };
}

const cluster = await startTestCluster();
const channel = new GrpcChannel(`dns:///${cluster.grpc.warehouse}`);
const grpc = createGrpcClient(WarehouseService, channel);
const ids: string[] = [];
for (let i = 0; i < 100; i++) {
  ids.push((await grpc.createWarehouse({ warehouse: { code: `BENCH-${i}`, name: `Bench ${i}`, priority: i } })).warehouse!.id);
}
const idOf = (i: number) => ids[i % ids.length]!;

const expectOk = async (res: Response) => {
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  await res.arrayBuffer();
};
const results = [
  await measure("gRPC, straight to the service (baseline)", (i) => grpc.getWarehouse({ id: idOf(i) })),
  await measure("REST through the edge", (i) => fetch(`${cluster.baseUrl}/v1/warehouses/${idOf(i)}`).then(expectOk)),
  await measure("Connect (JSON) through the edge", (i) =>
    fetch(`${cluster.baseUrl}/warehouse.v1.WarehouseService/GetWarehouse`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: idOf(i) }),
    }).then(expectOk),
  ),
];

const baseline = results[0]!.opsPerSecond;
console.log(`\n${CALLS} GetWarehouse calls each, ${CONCURRENCY} at a time, embedded PGlite, read cache warm\n`);
console.log("path".padEnd(44), "calls/s".padStart(9), "p50 ms".padStart(8), "p99 ms".padStart(8), "vs baseline".padStart(12));
for (const r of results) {
  console.log(r.label.padEnd(44), r.opsPerSecond.toFixed(0).padStart(9), r.p50.padStart(8), r.p99.padStart(8), `${(r.opsPerSecond / baseline).toFixed(2)}x`.padStart(12));
}
const mem = process.memoryUsage();
console.log(`\nmemory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB (whole cluster in this process)`);

channel.close();
await cluster.stop();
