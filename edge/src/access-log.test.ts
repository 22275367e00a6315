/** The edge's access lines: failures at info and above, every request at debug, nothing else. */
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { createLogger } from "@inv/platform";
import { afterEach, describe, expect, it } from "vitest";
import { createEdgeHandler, startHttpServer } from "./server.js";
import { Upstreams } from "./upstream.js";

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function edgeLoggingAt(level: string) {
  const lines: { msg: string; status?: number; level: number; path?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const handler = createEdgeHandler({
    services: [],
    upstreams: new Upstreams([], () => "", 1_000, { token: () => "" }),
    log: createLogger("edge", level, sink),
    cors: { origins: [] },
    openapi: { openapi: "3.1.0" },
    readiness: async () => ({}),
  });
  const server = await startHttpServer(handler, 0, "127.0.0.1");
  servers.push(server);
  const { port } = server.address() as { port: number };
  const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  const accessLines = async () => {
    await new Promise((r) => setTimeout(r, 20));
    return lines.filter((l) => l.msg === "http request").map((l) => [l.path, l.status]);
  };
  return { get, accessLines };
}

describe("access lines", () => {
  it("at info: one line per failed request, none for successes", async () => {
    const edge = await edgeLoggingAt("info");
    expect([await edge.get("/openapi.json"), await edge.get("/nowhere"), await edge.get("/healthz")]).toEqual([200, 404, 200]);
    expect(await edge.accessLines()).toEqual([["/nowhere", 404]]);
  });

  it("at debug: one line per request", async () => {
    const edge = await edgeLoggingAt("debug");
    await edge.get("/openapi.json");
    await edge.get("/nowhere");
    expect(await edge.accessLines()).toEqual([
      ["/openapi.json", 200],
      ["/nowhere", 404],
    ]);
  });
});
