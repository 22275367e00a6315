import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * A fire-and-forget message bus between the processes of the cluster: Redis pub/sub when
 * REDIS_URL is set, an in-process emitter otherwise (the embedded default runs every service in
 * one process). Used for invalidations that must reach every process within a second.
 */
export interface Bus {
  /** Sends a message to every subscriber of the channel, in every process (and this one). */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls onMessage for every message on the channel. onResync is called when messages may have
   * been missed (the connection to Redis dropped and came back): drop whatever they would have
   * invalidated. Returns a function that unsubscribes.
   */
  subscribe(channel: string, onMessage: (message: string) => void, onResync?: () => void): () => void;
  /** Resolves once every subscription made so far is live (Redis confirms them asynchronously). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The bus of a process without Redis: every service of the embedded cluster runs in this one
 * process, so one emitter per process reaches them all.
 */
class LocalBus implements Bus {
  private static readonly emitter = new EventEmitter().setMaxListeners(0);

  constructor(private readonly namespace: string) {}

  async publish(channel: string, message: string) {
    LocalBus.emitter.emit(this.namespace + channel, message);
  }

  subscribe(channel: string, onMessage: (message: string) => void) {
    const name = this.namespace + channel;
    LocalBus.emitter.on(name, onMessage);
    return () => void LocalBus.emitter.off(name, onMessage);
  }

  async ready() {}

  async close() {}
}

/**
 * Redis pub/sub. A subscribed connection can do nothing else, so there are two: one publishes,
 * one listens. Messages published while the listener is disconnected are lost by Redis, so every
 * reconnection after the first connect asks the subscribers to resynchronise.
 *
 * This process's own subscribers hear a message at once, when it is published, not when Redis
 * echoes it back a moment later: whoever made a change must not see the old state after it.
 * Each message carries the publishing bus's id, so the echo is recognised and skipped.
 */
class RedisBus implements Bus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private readonly resyncs = new Set<() => void>();
  private connectedOnce = false;
  private pending: Promise<unknown> = Promise.resolve();
  private readonly origin = `${randomUUID()}\n`;

  constructor(
    url: string,
    private readonly namespace: string,
    log?: Logger,
  ) {
    // A message published while the connection is (re)connecting waits for it instead of being
    // lost: a lost invalidation leaves other processes' caches stale until they expire.
    this.publisher = new Redis(url, { maxRetriesPerRequest: 1 });
    // No ready check and no client info on the subscribing connection: ioredis 5 may send those
    // after a SUBSCRIBE issued while it connects, the server refuses them on a connection in
    // subscriber mode, and the subscription is lost (redis/ioredis#2037). It only subscribes.
    this.subscriber = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false, disableClientInfo: true });
    const warn = (err: Error) => log?.warn({ err: err.message }, "redis bus unavailable");
    this.publisher.on("error", warn);
    this.subscriber.on("error", warn);
    this.subscriber.on("message", (channel: string, framed: string) => {
      if (framed.startsWith(this.origin)) return; // our own, delivered when published
      const newline = framed.indexOf("\n");
      this.deliver(channel.slice(this.namespace.length), newline < 0 ? framed : framed.slice(newline + 1));
    });
    this.subscriber.on("ready", () => {
      if (this.connectedOnce) for (const resync of this.resyncs) resync();
      this.connectedOnce = true;
    });
  }

  async publish(channel: string, message: string) {
    this.deliver(channel, message);
    await this.publisher.publish(this.namespace + channel, this.origin + message);
  }

  private deliver(channel: string, message: string) {
    for (const handler of this.handlers.get(channel) ?? []) handler(message);
  }

  subscribe(channel: string, onMessage: (message: string) => void, onResync?: () => void) {
    let handlers = this.handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(channel, handlers);
      // ioredis re-subscribes by itself after a reconnection.
      this.pending = Promise.all([this.pending, this.subscriber.subscribe(this.namespace + channel).catch(() => {})]);
    }
    handlers.add(onMessage);
    if (onResync) this.resyncs.add(onResync);
    return () => {
      handlers.delete(onMessage);
      if (onResync) this.resyncs.delete(onResync);
    };
  }

  async ready() {
    await this.pending;
  }

  async close() {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

/** namespace: prefixes every channel name, so that tests sharing a Redis do not hear each other. */
export function createBus(opts: { redisUrl?: string | undefined; namespace?: string | undefined; log?: Logger }): Bus {
  const namespace = opts.namespace ?? "";
  return opts.redisUrl ? new RedisBus(opts.redisUrl, namespace, opts.log) : new LocalBus(namespace);
}
