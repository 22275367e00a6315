import { status } from "@grpc/grpc-js";
import type { AuditEvent } from "@inv/gen/user/v1/audit_pb";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ANONYMOUS_CALLER } from "../auth/principal.js";
import { inTransaction, type Db } from "../db.js";
import { createLogger } from "../log.js";
import { auditEventOf } from "./event.js";
import { startAuditRelay, type AuditRelay, type AuditRelayOptions } from "./relay.js";
import { openOutboxDb, type OutboxDb } from "./testing.js";
import { outboxTrail } from "./trail.js";

let o: OutboxDb;
beforeAll(async () => {
  o = await openOutboxDb("audit_relay");
});
afterAll(() => o?.close());

const event = (requestId = "r") =>
  auditEventOf({ service: "svc", method: "/svc.v1.S/M", permission: "x.write", caller: ANONYMOUS_CALLER, requestId, code: status.OK });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A stand-in for the user service: takes events unless it is down. */
class Receiver {
  down = false;
  calls = 0;
  received: AuditEvent[] = [];
  readonly send = async (events: AuditEvent[]) => {
    this.calls++;
    await sleep(0);
    if (this.down) throw new Error("14 UNAVAILABLE: no connection established");
    this.received.push(...events);
  };
  ids = () => this.received.map((e) => e.id);
}

/** Log lines, as objects. */
const logged: { level: number; msg: string }[] = [];
const log = createLogger("audit-test", "info", { write: (line: string) => void logged.push(JSON.parse(line)) });
const warnings = () => logged.filter((l) => l.level === 40);

const relays: AuditRelay[] = [];
const relay = (send: AuditRelayOptions["send"], over: Partial<AuditRelayOptions> = {}) => {
  // A long poll unless a test asks for one: tests drive the relay with flush().
  const r = startAuditRelay({ db: o.db, table: o.table, send, log, pollMs: 60_000, retryMinMs: 5, retryMaxMs: 40, ...over });
  relays.push(r);
  return r;
};
const outbox = () => o.db.select().from(o.table);

beforeEach(async () => {
  logged.length = 0;
  await o.db.delete(o.table);
});
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

describe("startAuditRelay", () => {
  it("polls often while there is work, and seldom once the outbox is empty; its own writes still wake it", async () => {
    const receiver = new Receiver();
    const r = relay(receiver.send, { pollMs: 20, idlePollMs: 1_500 });
    const trail = outboxTrail({ db: o.db, table: o.table, onWritten: () => r.wake() });
    await sleep(100); // a poll or two found nothing: the relay is idle now
    // A row left by another replica (no wake here) waits for the idle poll...
    await o.db.insert(o.table).values({ id: crypto.randomUUID(), occurTime: new Date(), event: "" });
    await sleep(150);
    expect(receiver.calls).toBe(0);
    // ...while a row this process writes goes at once.
    const mine = event("mine");
    await trail.record(mine);
    for (let i = 0; i < 50 && receiver.received.length === 0; i++) await sleep(10);
    expect(receiver.ids()).toContain(mine.id);
  });

  it("ships a steady stream of writes in a few batches, not one send per write", async () => {
    const receiver = new Receiver();
    const r = relay(receiver.send, { busyIntervalMs: 200 });
    const trail = outboxTrail({ db: o.db, table: o.table, onWritten: () => r.wake() });
    const written: string[] = [];
    for (let i = 0; i < 40; i++) {
      const e = event(`stream-${i}`);
      written.push(e.id);
      await trail.record(e);
      await sleep(10);
    }
    for (let i = 0; i < 100 && receiver.received.length < written.length; i++) await sleep(20);
    expect(receiver.ids().sort()).toEqual([...written].sort());
    // About 400 ms of writes: the first ships on its own, the rest in 200 ms batches.
    expect(receiver.calls).toBeLessThanOrEqual(5);
  });

  it("never ships a record whose transaction rolled back; ships a committed one once send takes it", async () => {
    const receiver = new Receiver();
    const r = relay(receiver.send);
    const trail = outboxTrail({ db: o.db, table: o.table });
    const lost = event();
    await expect(
      inTransaction(o.db, async (tx) => {
        await trail.recordInTransaction(tx, lost);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow();
    const kept = event();
    await inTransaction(o.db, (tx) => trail.recordInTransaction(tx, kept));

    receiver.down = true;
    expect(await r.flush()).toBe(0);
    expect(await outbox()).toMatchObject([{ id: kept.id, attempts: 1 }]);

    receiver.down = false;
    await sleep(10); // past the first backoff
    expect(await r.flush()).toBe(1);
    expect(receiver.ids()).toEqual([kept.id]);
    expect(receiver.received[0]).toEqual(kept);
    expect(await outbox()).toEqual([]);
    expect(await r.flush()).toBe(0);
  });

  it("ships in batches, oldest first, and flush counts them all", async () => {
    const receiver = new Receiver();
    const r = relay(receiver.send, { batchSize: 10 });
    const trail = outboxTrail({ db: o.db, table: o.table });
    const events = Array.from({ length: 25 }, (_, i) => {
      const e = event(`r${i}`);
      e.occurTime!.seconds -= BigInt(100 - i);
      return e;
    });
    for (const e of [...events].reverse()) await trail.record(e);
    expect(await r.flush()).toBe(25);
    expect(receiver.ids()).toEqual(events.map((e) => e.id));
    expect(receiver.calls).toBe(3);
  });

  it("keeps records while the receiver is down, backing off without spinning, then delivers every one", async () => {
    const receiver = new Receiver();
    receiver.down = true;
    const r = relay(receiver.send, { pollMs: 10, batchSize: 7 });
    const trail = outboxTrail({ db: o.db, table: o.table, onWritten: () => r.wake() });
    const written: string[] = [];
    for (let i = 0; i < 30; i++) {
      const e = event(`r${i}`);
      written.push(e.id);
      if (i % 2) await trail.record(e);
      else await inTransaction(o.db, (tx) => trail.recordInTransaction(tx, e));
    }
    await sleep(400);
    const rows = await outbox();
    expect(rows.map((row) => row.id).sort()).toEqual([...written].sort());
    expect(Math.max(...rows.map((row) => row.attempts))).toBeGreaterThanOrEqual(3);
    // Polling every 10 ms for 400 ms: at most one send per poll (plus the writers' wakes before the first failure).
    expect(receiver.calls).toBeLessThan(60);
    expect(warnings()).toHaveLength(1);

    receiver.down = false;
    for (let i = 0; i < 100 && (await outbox()).length > 0; i++) await sleep(20);
    expect(await outbox()).toEqual([]);
    expect(new Set(receiver.ids())).toEqual(new Set(written));
    expect(logged.some((l) => l.msg.includes("shipping again"))).toBe(true);
  });

  it("counts a send that never answers as failed", async () => {
    const r = relay(() => new Promise<void>(() => {}), { sendTimeoutMs: 30 });
    await outboxTrail({ db: o.db, table: o.table }).record(event());
    expect(await r.flush()).toBe(0);
    expect(await outbox()).toMatchObject([{ attempts: 1 }]);
    expect(warnings()).toHaveLength(1);
  });

  it("stop() waits for the batch in flight", async () => {
    let release!: () => void;
    let sent = 0;
    const r = relay(async (events) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      sent += events.length;
    });
    await outboxTrail({ db: o.db, table: o.table }).record(event());
    const flushed = r.flush();
    while (!release) await sleep(5);
    let stopped = false;
    const stopping = r.stop().then(() => {
      stopped = true;
    });
    await sleep(30);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await flushed).toBe(1);
    expect(sent).toBe(1);
    expect(await outbox()).toEqual([]);
  });

  it("two relays on one table, with a flaky receiver, deliver every event of 300 written concurrently", async (ctx) => {
    if (o.kind === "pglite") ctx.skip(); // one connection: no second replica to race with
    const delivered = new Set<string>();
    let duplicates = 0;
    const flaky = async (events: AuditEvent[]) => {
      await sleep(Math.random() * 5);
      if (Math.random() < 0.2) throw new Error("14 UNAVAILABLE");
      for (const e of events) {
        if (delivered.has(e.id)) duplicates++;
        delivered.add(e.id);
      }
    };
    const dbs: Db[] = [o.connect(), o.connect()];
    const [a, b] = dbs.map((db) => {
      const r = startAuditRelay({ db, table: o.table, send: flaky, log, pollMs: 5, batchSize: 9, retryMinMs: 1, retryMaxMs: 20 });
      relays.push(r);
      return r;
    });
    const trail = outboxTrail({ db: o.db, table: o.table, onWritten: () => (Math.random() < 0.5 ? a : b)!.wake() });
    const written = new Set<string>();
    await Promise.all(
      Array.from({ length: 10 }, async (_, writer) => {
        for (let i = 0; i < 30; i++) {
          const e = event(`w${writer}-${i}`);
          written.add(e.id);
          if (i % 3) await inTransaction(o.db, (tx) => trail.recordInTransaction(tx, e));
          else await trail.record(e);
        }
      }),
    );
    for (let i = 0; i < 300 && (await outbox()).length > 0; i++) await sleep(20);
    expect(await outbox()).toEqual([]);
    expect(written.size).toBe(300);
    expect(delivered).toEqual(written);
    // Leases keep replicas apart: a duplicate needs a lost answer, which this receiver never causes.
    expect(duplicates).toBe(0);
  });

  it("leaves rows locked by someone else alone", async (ctx) => {
    if (o.kind === "pglite") ctx.skip();
    const receiver = new Receiver();
    const r = relay(receiver.send, { db: o.connect() });
    const trail = outboxTrail({ db: o.db, table: o.table });
    const held = event("held");
    const free = event("free");
    await trail.record(held);
    await trail.record(free);
    await inTransaction(o.db, async (tx) => {
      await tx.execute(sql`SELECT 1 FROM ${o.table} WHERE ${o.table.id} = ${held.id} FOR UPDATE`);
      expect(await r.flush()).toBe(1);
    });
    expect(receiver.ids()).toEqual([free.id]);
    expect(await r.flush()).toBe(1);
    expect(receiver.ids()).toEqual([free.id, held.id]);
  });
});
