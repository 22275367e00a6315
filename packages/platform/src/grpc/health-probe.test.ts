/**
 * The containers' health probe (scripts/grpc-health.sh, curl over cleartext HTTP/2) against a real
 * server: SERVING passes, NOT_SERVING and no server fail. Skipped where curl is not installed (the
 * image installs it; a development machine may not have it).
 */
import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registration } from "./handler.js";
import { startGrpcServer, type RunningGrpcServer } from "./server.js";

const script = fileURLToPath(new URL("../../../../scripts/grpc-health.sh", import.meta.url));
const hasCurl = spawnSync("curl", ["--version"]).status === 0;
/** Runs the probe in a child process, without blocking this one (the server under test runs here). */
const probe = (address: string) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
    execFile("sh", [script, address], { timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

describe.skipIf(!hasCurl)("the gRPC health probe", () => {
  let server: RunningGrpcServer;
  beforeAll(async () => {
    server = await startGrpcServer({
      name: "probed",
      host: "127.0.0.1",
      port: 0,
      log: pino({ level: "silent" }),
      services: [registration(WarehouseService, {})],
    });
  });
  afterAll(() => server?.shutdown(100));

  it("passes while the server is SERVING, and fails while it is not", async () => {
    const serving = await probe(server.address);
    expect(serving.status, serving.stderr).toBe(0);
    expect(serving.stdout.trim()).toBe("SERVING");
    server.setServing(false);
    try {
      expect((await probe(server.address)).status).toBe(1);
    } finally {
      server.setServing(true);
    }
  });

  it("fails when nothing listens", async () => {
    expect((await probe("127.0.0.1:1")).status).toBe(1);
  });
});
