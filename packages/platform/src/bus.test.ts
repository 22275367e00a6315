import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createBus, type Bus } from "./bus.js";
import { testRedisUrl } from "./testing/redis.js";

const opened: Bus[] = [];
afterEach(async () => {
  for (const bus of opened.splice(0)) await bus.close();
});
const open = (namespace: string) => {
  const bus = createBus({ redisUrl: testRedisUrl(), namespace });
  opened.push(bus);
  return bus;
};
const until = async (done: () => boolean) => {
  const deadline = Date.now() + 2_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
};

describe("the bus", () => {
  it("delivers to this process's subscribers as the publish happens, and to other processes once each", async () => {
    const namespace = `bus-test:${randomBytes(4).toString("hex")}:`;
    const [here, there] = [open(namespace), open(namespace)];
    const heardHere: string[] = [];
    const heardThere: string[] = [];
    here.subscribe("c", (m) => heardHere.push(m));
    there.subscribe("c", (m) => heardThere.push(m));
    await Promise.all([here.ready(), there.ready()]);
    const sent = here.publish("c", "one\ntwo");
    expect(heardHere).toEqual(["one\ntwo"]); // at once, before Redis has seen it
    await sent;
    await until(() => heardThere.length > 0);
    await new Promise((r) => setTimeout(r, 50)); // time for an echo that must not come
    expect(heardHere).toEqual(["one\ntwo"]);
    expect(heardThere).toEqual(["one\ntwo"]);
  });

  it("keeps namespaces apart", async () => {
    const [a, b] = [open(`bus-a:${randomBytes(4).toString("hex")}:`), open(`bus-b:${randomBytes(4).toString("hex")}:`)];
    const heard: string[] = [];
    b.subscribe("c", (m) => heard.push(m));
    await b.ready();
    await a.publish("c", "x");
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual([]);
  });
});
