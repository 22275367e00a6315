/**
 * The programs run from what the image's runtime stage holds, and from nothing else: the tree
 * assembleRuntimeTree lays out (the compiled modules, manifests, migrations, descriptor set and
 * probe the Dockerfile copies, and node_modules without the repository's own packages). The
 * image's default command serves a login and a write through the edge there; a service and the
 * edge, as compose and ECS start them, start there too.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { edge, edgeCommand, grpcPortVariable, grpcTargetVariable, processes, processNamed, serviceCommand } from "@inv/service-catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPrograms } from "./index.js";
import { assembleRuntimeTree, runtimeCommand } from "./runtime-stage.js";

let tree: string;

beforeAll(async () => {
  await buildPrograms();
  tree = mkdtempSync(join(tmpdir(), "inv-runtime-"));
  assembleRuntimeTree(tree);
}, 120_000);

afterAll(() => rmSync(tree, { recursive: true, force: true }));

/** A program started from the tree as the image starts it, with its output collected. */
class Started {
  output = "";
  readonly child: ChildProcess;

  constructor(command: readonly string[], env: Record<string, string>) {
    const [node, ...args] = command;
    expect(node).toBe("node");
    this.child = spawn(process.execPath, args, {
      cwd: tree,
      env: { PATH: process.env["PATH"], NODE_ENV: "production", SERVICE_SECRET: randomBytes(32).toString("hex"), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (d: Buffer) => {
      this.output += d.toString();
    };
    this.child.stdout?.on("data", collect);
    this.child.stderr?.on("data", collect);
  }

  async waitFor(text: string | RegExp, timeoutMs = 90_000): Promise<void> {
    const seen = () => (typeof text === "string" ? this.output.includes(text) : text.test(this.output));
    const deadline = Date.now() + timeoutMs;
    while (!seen()) {
      if (this.child.exitCode !== null) throw new Error(`exited with ${this.child.exitCode}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${text} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM, as ECS and compose stop a task; resolves its exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once("exit", (code) => resolve(code)));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

describe("the image's runtime stage", () => {
  it("runs the image's default command: every process in one, serving a login, a write and a read through the edge", async () => {
    const admin = { username: "admin", password: `Runtime-${randomBytes(9).toString("base64url")}-1` };
    const dataDir = join(tree, "data");
    const cluster = new Started(runtimeCommand, {
      HOST: "127.0.0.1",
      HTTP_PORT: "0",
      ...Object.fromEntries(processes.map((p) => [grpcPortVariable(p.name), "0"])),
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      ADMIN_USERNAME: admin.username,
      ADMIN_PASSWORD: admin.password,
    });
    let exitCode: number | null;
    try {
      await cluster.waitFor("Inventory platform is running");
      const url = /REST, Connect, gRPC-Web\s+(http:\/\/\S+)/.exec(cluster.output)?.[1];
      expect(url).toBeDefined();

      expect((await fetch(`${url}${edge.livenessPath}`)).status).toBe(200);
      expect((await fetch(`${url}/openapi.json`)).status).toBe(200);
      const login = await fetch(`${url}/v1/auth:login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(admin) });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      const headers = { authorization: `Bearer ${accessToken}`, "content-type": "application/json" };
      const created = await fetch(`${url}/v1/warehouses`, { method: "POST", headers, body: JSON.stringify({ code: "RT-1", name: "Runtime stage" }) });
      expect(created.status, await created.clone().text()).toBe(200);
      const { id } = (await created.json()) as { id: string };
      const read = await fetch(`${url}/v1/warehouses/${id}`, { headers });
      expect(await read.json()).toMatchObject({ id, code: "RT-1" });

      // The containers' probe, from the tree, against a service of the cluster.
      const address = /gRPC warehouse\s+(\S+)/.exec(cluster.output)?.[1];
      const probe = await promisify(execFile)("sh", ["scripts/grpc-health.sh", address ?? ""], { cwd: tree });
      expect(probe.stdout.trim()).toBe("SERVING");
    } finally {
      exitCode = await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(exitCode, cluster.output).toBe(0);
  }, 180_000);

  it("runs a service and the edge each on its own, as compose and ECS start them", async () => {
    const warehouse = processNamed("warehouse");
    const dataDir = join(tree, "data-warehouse");
    const service = new Started(serviceCommand(warehouse), { GRPC_HOST: "127.0.0.1", GRPC_PORT: "0", DATA_DIR: dataDir });
    // Upstreams it cannot reach yet: the edge is alive without them (its readiness is another matter).
    const edgeAlone = new Started(edgeCommand(), {
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: "0",
      ...Object.fromEntries(processes.map((p) => [grpcTargetVariable(p.name), "dns:///127.0.0.1:9"])),
    });
    let exitCodes: (number | null)[];
    try {
      await service.waitFor("gRPC server listening");
      expect(service.output).toContain("database ready (embedded PGlite)");
      await edgeAlone.waitFor("edge listening");
      const url = /"url":"(http:[^"]+)"/.exec(edgeAlone.output)?.[1];
      expect((await fetch(`${url}${edge.livenessPath}`)).status).toBe(200);
    } finally {
      exitCodes = await Promise.all([service.stop(), edgeAlone.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(exitCodes, service.output + edgeAlone.output).toEqual([0, 0]);
  }, 120_000);
});
