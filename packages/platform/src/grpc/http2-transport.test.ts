/**
 * The transport against servers that misbehave on purpose: a bare node:http2 server whose answer
 * each test picks, so that every way a gRPC answer can end is seen once. The happy paths against
 * real grpc-js servers are in client.test.ts, spreading.test.ts and drain.test.ts.
 */
import { once } from "node:events";
import { constants, createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { type AddressInfo, type Socket, connect as connectTcp, createServer as createNetServer } from "node:net";
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { CallFailure, Http2Transport, USER_AGENT, parseTarget } from "./http2-transport.js";

type Answer = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, nth: number) => void;

const open: { server: Http2Server; transport?: Http2Transport }[] = [];
afterEach(async () => {
  for (const { server, transport } of open.splice(0)) {
    transport?.close();
    server.close();
  }
});

/** A server answering every request with `answer`, and a transport to it. */
async function serve(answer: Answer) {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer();
  server.on("stream", (stream, headers) => {
    seen.push(headers);
    stream.on("error", () => {});
    answer(stream, headers, seen.length);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const transport = new Http2Transport(`dns:///127.0.0.1:${port}`);
  open.push({ server, transport });
  return { transport, seen, port, server };
}

const spec = (ms = 2_000, extra: Partial<{ signal: AbortSignal; cancelWith: (c: () => void) => void }> = {}) => ({
  metadata: { "x-request-id": "r-1" },
  deadline: Date.now() + ms,
  ...extra,
});
const framed = (message: Buffer, flag = 0) => {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
};
const grpcHeaders = { ":status": 200, "content-type": "application/grpc" };
const ok: Answer = (stream) => {
  stream.respond(grpcHeaders, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(framed(Buffer.from("pong")));
};
const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail("the call succeeded"),
    (e: unknown) => e as CallFailure,
  );

describe("parseTarget", () => {
  it("reads dns:/// targets, bare ones, IPv6 and the default port", () => {
    expect(parseTarget("dns:///warehouse:50051")).toEqual({ host: "warehouse", port: 50051 });
    expect(parseTarget("dns://8.8.8.8/user.local:50054")).toEqual({ host: "user.local", port: 50054 });
    expect(parseTarget("127.0.0.1:9")).toEqual({ host: "127.0.0.1", port: 9 });
    expect(parseTarget("dns:///[::1]:7")).toEqual({ host: "::1", port: 7 });
    expect(parseTarget("inventory")).toEqual({ host: "inventory", port: 443 });
    expect(() => parseTarget("unix:///tmp/socket")).toThrow(/only dns/);
    expect(() => parseTarget("host:http")).toThrow(/no port/);
  });
});

describe("a unary call", () => {
  it("sends gRPC's headers, the metadata and the deadline, and returns the message", async () => {
    const { transport, seen } = await serve(ok);
    const answer = await transport.unary("/pkg.Svc/Ping", Buffer.from("ping"), spec(3_000));
    expect(answer.toString()).toBe("pong");
    expect(seen[0]).toMatchObject({
      ":method": "POST",
      ":path": "/pkg.Svc/Ping",
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": USER_AGENT,
      "x-request-id": "r-1",
    });
    expect(Number(/^(\d+)m$/.exec(String(seen[0]!["grpc-timeout"]))?.[1])).toBeGreaterThan(2_900);
  });

  it("reads a trailers-only error with its percent-encoded message and details", async () => {
    const details = Buffer.from([8, 5]);
    const { transport } = await serve((stream) => {
      stream.respond(
        { ...grpcHeaders, "grpc-status": "5", "grpc-message": "no%20such%20thing%3A%20%C3%A9", "grpc-status-details-bin": details.toString("base64") },
        { endStream: true },
      );
    });
    const err = await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec()));
    expect(err).toBeInstanceOf(CallFailure);
    expect(err).toMatchObject({ code: status.NOT_FOUND, message: "no such thing: é" });
    expect(err.details).toEqual(details);
  });

  it("maps an answer that is not gRPC from its HTTP status", async () => {
    const { transport } = await serve((stream) => stream.respond({ ":status": 503 }, { endStream: true }));
    expect(await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec()))).toMatchObject({ code: status.UNAVAILABLE });
  });

  it("refuses a compressed, a truncated or a missing message with INTERNAL", async () => {
    const bodies = [framed(Buffer.from("x"), 1), framed(Buffer.from("whole")).subarray(0, 7), Buffer.alloc(0)];
    const { transport } = await serve((stream, _h, nth) => {
      stream.respond(grpcHeaders, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(bodies[nth - 1]);
    });
    for (const _ of bodies) expect(await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec()))).toMatchObject({ code: status.INTERNAL });
  });

  it("stops at the deadline and resets the stream, which the server sees", async () => {
    let reset: Promise<unknown> | undefined;
    const { transport } = await serve((stream) => {
      reset = once(stream, "close").then(() => stream.rstCode);
    });
    const started = Date.now();
    expect(await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec(100)))).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await reset).toBe(constants.NGHTTP2_CANCEL);
  });

  it("is cancelled by its signal and by cancelWith", async () => {
    const { transport } = await serve(() => {});
    const controller = new AbortController();
    const bySignal = failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec(5_000, { signal: controller.signal })));
    let cancel = () => {};
    const byFunction = failure(
      transport.unary(
        "/pkg.Svc/Ping",
        Buffer.alloc(0),
        spec(5_000, {
          cancelWith: (c) => {
            cancel = c;
          },
        }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    cancel();
    expect(await bySignal).toMatchObject({ code: status.CANCELLED });
    expect(await byFunction).toMatchObject({ code: status.CANCELLED });
  });

  it("sends a call the server refused unseen (REFUSED_STREAM) once more", async () => {
    const { transport, seen } = await serve((stream, headers, nth) => (nth === 1 ? stream.close(constants.NGHTTP2_REFUSED_STREAM) : ok(stream, headers, nth)));
    expect((await transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec())).toString()).toBe("pong");
    expect(seen).toHaveLength(2);
  });

  it("finishes a call in flight on a connection going away, and makes the next one on a new connection", async () => {
    const sessions = new Set<unknown>();
    const { transport } = await serve((stream, headers, nth) => {
      sessions.add(stream.session);
      if (nth === 1) {
        stream.session?.goaway(constants.NGHTTP2_NO_ERROR, stream.id);
        setTimeout(() => ok(stream, headers, nth), 50);
      } else ok(stream, headers, nth);
    });
    expect((await transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec())).toString()).toBe("pong");
    expect((await transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec())).toString()).toBe("pong");
    expect(sessions.size).toBe(2);
  });

  it("is UNAVAILABLE when nothing listens, and reaches the server once it does", async () => {
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    const transport = new Http2Transport(`127.0.0.1:${port}`);
    const down = await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec()));
    expect(down).toMatchObject({ code: status.UNAVAILABLE });
    expect(down.message).toContain(`127.0.0.1:${port}`);

    const server = createServer();
    server.on("stream", (stream, headers) => ok(stream, headers, 1));
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    open.push({ server, transport });
    // After the first backoff (1 s ± 20 %) the channel connects again by itself.
    await expect
      .poll(
        () =>
          transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec()).then(
            (b) => b.toString(),
            (e: CallFailure) => e.code,
          ),
        { timeout: 3_000, interval: 100 },
      )
      .toBe("pong");
  });

  it("is UNAVAILABLE when the connection drops mid-call, so an idempotent call may be retried", async () => {
    const { transport, server } = await serve((stream) => {
      stream.respond(grpcHeaders);
      setTimeout(() => sockets.forEach((s) => s.destroy()), 20);
    });
    const sockets: Socket[] = [];
    server.on("connection", (socket: Socket) => sockets.push(socket));
    expect(await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec()))).toMatchObject({ code: status.UNAVAILABLE });
  });

  it("closes a connection whose peer has gone silent, once a call on it runs out of time, and reconnects", async () => {
    const { port } = await serve(ok);
    // A proxy that can swallow everything both ways without closing anything: a peer gone silent.
    let silent = false;
    let connections = 0;
    const proxy = createNetServer((client) => {
      connections++;
      const upstream = connectTcp(port, "127.0.0.1");
      client.on("data", (d) => silent || upstream.write(d));
      upstream.on("data", (d) => silent || client.write(d));
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        a.on("error", () => {});
        a.on("close", () => b.destroy());
      }
    });
    proxy.listen(0, "127.0.0.1");
    await once(proxy, "listening");
    const transport = new Http2Transport(`127.0.0.1:${(proxy.address() as AddressInfo).port}`, { pingTimeoutMs: 200 });
    try {
      expect((await transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec())).toString()).toBe("pong");
      silent = true;
      expect(await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec(100)))).toMatchObject({ code: status.DEADLINE_EXCEEDED });
      // The PING goes unanswered: the connection is closed, and calls in flight on it end UNAVAILABLE.
      const stuck = failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec(5_000)));
      expect(await stuck).toMatchObject({ code: status.UNAVAILABLE });
      silent = false;
      expect((await transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec())).toString()).toBe("pong");
      expect(connections).toBe(2);
    } finally {
      transport.close();
      proxy.close();
    }
  });

  it("backs off from an address that accepts connections and drops them, instead of reconnecting in a loop", async () => {
    let accepted = 0;
    const rude = createNetServer((socket) => {
      accepted++;
      socket.destroy();
    });
    rude.listen(0, "127.0.0.1");
    await once(rude, "listening");
    const transport = new Http2Transport(`127.0.0.1:${(rude.address() as AddressInfo).port}`);
    try {
      expect(await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec(1_000)))).toMatchObject({ code: status.UNAVAILABLE });
      await new Promise((resolve) => setTimeout(resolve, 600));
      // One attempt, perhaps a second after the first backoff (≥ 800 ms): not hundreds.
      expect(accepted).toBeLessThanOrEqual(2);
    } finally {
      transport.close();
      rude.close();
    }
  });

  it("spreads calls round robin over every address the name resolves to", async () => {
    const [a, b] = await Promise.all([serve(ok), serve(ok)]);
    const transport = new Http2Transport("dns:///two-tasks.internal:50051", {
      resolve: async () => [
        { host: "127.0.0.1", port: a.port },
        { host: "127.0.0.1", port: b.port },
      ],
    });
    try {
      await transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec());
      // Both connections open once the channel is used; from then on calls alternate.
      await expect.poll(async () => (await transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec()), b.seen.length)).toBeGreaterThan(0);
      const before = [a.seen.length, b.seen.length];
      for (let i = 0; i < 10; i++) await transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec());
      expect([a.seen.length - before[0]!, b.seen.length - before[1]!]).toEqual([5, 5]);
      expect(a.seen.at(-1)?.[":authority"]).toBe("two-tasks.internal:50051");
    } finally {
      transport.close();
    }
  });

  it("is UNAVAILABLE, naming the host, when the name does not resolve", async () => {
    const transport = new Http2Transport("dns:///no-such-host.invalid:50051");
    const err = await failure(transport.unary("/pkg.Svc/Ping", Buffer.alloc(0), spec()));
    transport.close();
    expect(err).toMatchObject({ code: status.UNAVAILABLE });
    expect(err.message).toContain("no-such-host.invalid");
  });
});

describe("a server-streaming call", () => {
  it("yields each message as it comes, across and within DATA frames, then ends", async () => {
    const { transport } = await serve((stream) => {
      stream.respond(grpcHeaders, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      const all = Buffer.concat(["a", "bb", "ccc"].map((m) => framed(Buffer.from(m))));
      stream.write(all.subarray(0, 3));
      stream.write(all.subarray(3, 11));
      stream.end(all.subarray(11));
    });
    const got: string[] = [];
    for await (const m of transport.serverStream("/pkg.Svc/Watch", Buffer.alloc(0), spec())) got.push(m.toString());
    expect(got).toEqual(["a", "bb", "ccc"]);
  });

  it("throws the status the stream ended with, after the messages before it", async () => {
    const { transport } = await serve((stream) => {
      stream.respond(grpcHeaders, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "9", "grpc-message": "stopped" }));
      stream.end(framed(Buffer.from("one")));
    });
    const got: string[] = [];
    const err = await failure(
      (async () => {
        for await (const m of transport.serverStream("/pkg.Svc/Watch", Buffer.alloc(0), spec())) got.push(m.toString());
      })(),
    );
    expect(got).toEqual(["one"]);
    expect(err).toMatchObject({ code: status.FAILED_PRECONDITION, message: "stopped" });
  });

  it("ends with DEADLINE_EXCEEDED when the stream outlives its deadline", async () => {
    const { transport } = await serve((stream) => {
      stream.respond(grpcHeaders);
      stream.write(framed(Buffer.from("first")));
    });
    const got: string[] = [];
    const err = await failure(
      (async () => {
        for await (const m of transport.serverStream("/pkg.Svc/Watch", Buffer.alloc(0), spec(150))) got.push(m.toString());
      })(),
    );
    expect(got).toEqual(["first"]);
    expect(err).toMatchObject({ code: status.DEADLINE_EXCEEDED });
  });

  it("cancels the server's stream when the caller stops reading", async () => {
    let closed: Promise<unknown> | undefined;
    const { transport } = await serve((stream) => {
      closed = once(stream, "close").then(() => stream.rstCode);
      stream.respond(grpcHeaders);
      stream.write(framed(Buffer.from("first")));
    });
    for await (const m of transport.serverStream("/pkg.Svc/Watch", Buffer.alloc(0), { ...spec(), deadline: Number.POSITIVE_INFINITY })) {
      expect(m.toString()).toBe("first");
      break;
    }
    expect(await closed).toBe(constants.NGHTTP2_CANCEL);
  });

  it("reads no faster than the caller: the server's writes wait", async () => {
    const chunk = framed(Buffer.alloc(64 * 1024));
    let written = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const { transport } = await serve((stream) => {
      stream.respond(grpcHeaders, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      const pump = () => {
        while (written < 200) {
          written++;
          if (!stream.write(chunk)) return void stream.once("drain", pump);
        }
        stream.end();
        done();
      };
      pump();
    });
    const messages = transport.serverStream("/pkg.Svc/Watch", Buffer.alloc(0), spec(10_000))[Symbol.asyncIterator]();
    await messages.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // 200 messages of 64 KiB do not fit in HTTP/2's windows: the server is still writing.
    expect(written).toBeLessThan(200);
    let count = 1;
    while (!(await messages.next()).done) count++;
    await finished;
    expect(count).toBe(200);
  });
});
