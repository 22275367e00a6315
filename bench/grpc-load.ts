/**
 * A gRPC load process: CONCURRENCY calls of GetWarehouse in flight for SECONDS, then prints a
 * LoadResult as JSON. The gRPC counterpart of autocannon, for the protocols comparison.
 * Env: GRPC_TARGET, WAREHOUSE_ID, CONCURRENCY, SECONDS, AUTHORIZATION (sent as is).
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { methodDefinition } from "@inv/platform";
import { GetWarehouseRequestSchema, WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import type { LoadResult } from "./load.js";

const env = (name: string) => process.env[name] ?? "";
const def = methodDefinition(WarehouseService.method.getWarehouse);
const client = new grpc.Client(env("GRPC_TARGET"), grpc.credentials.createInsecure());
const request = create(GetWarehouseRequestSchema, { id: env("WAREHOUSE_ID") });
const metadata = new grpc.Metadata();
if (env("AUTHORIZATION")) metadata.set("authorization", env("AUTHORIZATION"));
const call = () =>
  new Promise<boolean>((resolve) =>
    client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata.clone(), (err) => resolve(err === null)),
  );

const latencies: number[] = [];
let failures = 0;
const until = performance.now() + Number(env("SECONDS")) * 1000;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(env("CONCURRENCY")) }, async () => {
    while (performance.now() < until) {
      const t = performance.now();
      if (!(await call())) failures++;
      latencies.push(performance.now() - t);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.floor((latencies.length - 1) * p)] ?? Number.NaN;
const result: LoadResult = { rps: latencies.length / seconds, p50Ms: pct(0.5), p99Ms: pct(0.99), requests: latencies.length, failures };
process.stdout.write(`${JSON.stringify(result)}\n`);
client.close();
