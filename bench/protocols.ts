import { execFile } from "node:child_process";
import { join } from "node:path";
import { autocannon, type LoadResult, type LoadSpec } from "./load.js";
import { ROOT } from "./processes.js";
import { formatRows } from "./report.js";

export interface ProtocolsSettings {
  edgeUrl: string;
  /** host:port of the warehouse service. */
  warehouseTarget: string;
  id: string;
  /** "Bearer <access token>", sent with every call. */
  authorization: string;
  seconds: number;
  connections: number;
  warmup: (spec: LoadSpec) => Promise<void>;
}

/** The same GetWarehouse straight over gRPC (the baseline), then over REST and Connect through the edge. */
export async function protocolsTable(s: ProtocolsSettings): Promise<string> {
  const rest: LoadSpec = {
    url: `${s.edgeUrl}/v1/warehouses/${s.id}`,
    connections: s.connections,
    seconds: s.seconds,
    headers: { authorization: s.authorization },
  };
  const connect: LoadSpec = {
    url: `${s.edgeUrl}/warehouse.v1.WarehouseService/GetWarehouse`,
    connections: s.connections,
    seconds: s.seconds,
    method: "POST",
    headers: { "content-type": "application/json", authorization: s.authorization },
    body: JSON.stringify({ id: s.id }),
  };
  await grpcLoad(s, 1);
  const results: [string, LoadResult][] = [["gRPC straight to the service (baseline)", await grpcLoad(s, s.seconds)]];
  await s.warmup(rest);
  results.push(["REST through the edge", await autocannon.run(rest)]);
  await s.warmup(connect);
  results.push(["Connect (JSON) through the edge", await autocannon.run(connect)]);
  const baseline = results[0]![1].rps;
  const rows = results.map(([name, r]) => [name, Math.round(r.rps).toString(), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), `${(r.rps / baseline).toFixed(2)}x`]);
  return formatRows([["path", "req/s", "p50 ms", "p99 ms", "vs baseline"], ...rows], `Protocols, ${s.connections} at a time`);
}

function grpcLoad(s: ProtocolsSettings, seconds: number): Promise<LoadResult> {
  const env = {
    ...process.env,
    GRPC_TARGET: `dns:///${s.warehouseTarget}`,
    WAREHOUSE_ID: s.id,
    AUTHORIZATION: s.authorization,
    CONCURRENCY: String(s.connections),
    SECONDS: String(seconds),
  };
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ["--import", "tsx", join(ROOT, "bench/grpc-load.ts")], { cwd: ROOT, env }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as LoadResult),
    ),
  );
}
