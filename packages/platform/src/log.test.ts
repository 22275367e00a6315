import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { REDACTED, createLogger, redactSecrets } from "./log.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe("redactSecrets", () => {
  it("replaces secret fields at the top, one level down and in headers", () => {
    const logged = { password: "p", user: { token: "t", name: "ann" }, req: { headers: { authorization: "Bearer x", accept: "*/*" } }, secret: "s" };
    expect(redactSecrets(logged)).toEqual({
      password: REDACTED,
      user: { token: REDACTED, name: "ann" },
      req: { headers: { authorization: REDACTED, accept: "*/*" } },
      secret: REDACTED,
    });
  });

  it("recognises secrets by the look of their names, in any case and spelling", () => {
    const logged = {
      newPassword: "1",
      accessToken: "2",
      refresh_token: "3",
      "x-api-key": "4",
      apiKey: "5",
      Authorization: "6",
      clientSecret: "7",
      cookie: "8",
      username: "ann",
    };
    expect(redactSecrets(logged)).toEqual({
      newPassword: REDACTED,
      accessToken: REDACTED,
      refresh_token: REDACTED,
      "x-api-key": REDACTED,
      apiKey: REDACTED,
      Authorization: REDACTED,
      clientSecret: REDACTED,
      cookie: REDACTED,
      username: "ann",
    });
  });

  it("leaves the caller's object alone, and returns it as is when there is nothing to redact", () => {
    const logged = { user: { password: "p" }, status: 200 };
    redactSecrets(logged);
    expect(logged.user.password).toBe("p");
    const clean = { requestId: "r1", status: 200, nested: { a: 1 } };
    expect(redactSecrets(clean)).toBe(clean);
  });

  it("keeps Errors and arrays as they are", () => {
    const err = Object.assign(new Error("boom"), { token: "t" });
    const logged = { err, list: [{ password: "p" }] };
    expect(redactSecrets(logged)).toBe(logged);
  });
});

describe("createLogger", () => {
  it("redacts logged objects and child bindings in the written line", () => {
    const { lines, stream } = capture();
    const log = createLogger("test", "info", stream);
    log.child({ authorization: "Bearer x" }).info({ password: "p", requestId: "r1" }, "hello");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: "test", msg: "hello", requestId: "r1", password: REDACTED, authorization: REDACTED });
  });

  it("writes nothing below its level", () => {
    const { lines, stream } = capture();
    createLogger("test", "info", stream).debug({ a: 1 }, "quiet");
    expect(lines).toHaveLength(0);
  });
});
