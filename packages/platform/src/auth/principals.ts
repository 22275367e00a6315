import type { Bus } from "../bus.js";
import { AUTH_INVALIDATE_CHANNEL, type AuthInvalidation, type IdentitySource, type Principal } from "./principal.js";

/** An inactive answer is kept briefly, so a revoked token replayed in a loop is not an RPC each time. */
const INACTIVE_CACHE_MS = 5_000;

interface Entry {
  /** undefined: the credential is not active. */
  principal: Principal | undefined;
  until: number;
}

/**
 * The current principal behind each credential this process has seen, from an IdentitySource
 * (the user service), kept for as long as the source allows and dropped as soon as the bus says
 * the rights behind it changed. A lookup that started before an invalidation does not store its
 * answer, which may predate the change: every invalidation advances `epoch`.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  /**
   * The lookup in flight for each credential, and the epoch it started in. Callers that come
   * while it runs wait for it rather than ask again: when a busy credential's entry expires, the
   * requests it has in flight make one call to the source, not one each (hundreds, on an edge
   * under load, each one a tail latency).
   */
  private readonly inFlight = new Map<string, { epoch: number; answer: Promise<Principal | undefined> }>();
  private epoch = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: IdentitySource,
    bus: Bus,
    private readonly maxEntries = 10_000,
  ) {
    this.unsubscribe = bus.subscribe(
      AUTH_INVALIDATE_CHANNEL,
      (message) => this.invalidate(parseInvalidation(message)),
      () => this.invalidate({ all: true }),
    );
  }

  /**
   * What is cached for a credential, without asking: its principal, null when it is known to be
   * inactive, undefined when nothing (current) is cached.
   */
  peek(credential: string): Principal | null | undefined {
    const hit = this.entries.get(credential);
    if (hit === undefined || hit.until <= Date.now()) return undefined;
    return hit.principal ?? null;
  }

  /** The principal behind a credential now, or undefined when it is not active. */
  async get(credential: string): Promise<Principal | undefined> {
    const hit = this.entries.get(credential);
    if (hit !== undefined && hit.until > Date.now()) return hit.principal;
    // A lookup that started before the last invalidation may answer with what it changed: not joined.
    const pending = this.inFlight.get(credential);
    if (pending !== undefined && pending.epoch === this.epoch) return pending.answer;
    const answer = this.lookup(credential);
    this.inFlight.set(credential, { epoch: this.epoch, answer });
    try {
      return await answer;
    } finally {
      if (this.inFlight.get(credential)?.answer === answer) this.inFlight.delete(credential);
    }
  }

  /** Asks the source, and keeps the answer unless an invalidation came while it was asked. */
  private async lookup(credential: string): Promise<Principal | undefined> {
    const now = Date.now();
    const epoch = this.epoch;
    const answer = await this.source.introspect(credential);
    const principal = answer.active ? answer.principal : undefined;
    const until = principal
      ? Math.min(now + answer.cacheSeconds * 1000, principal.expiresAt ?? Number.POSITIVE_INFINITY)
      : now + Math.min(answer.cacheSeconds * 1000, INACTIVE_CACHE_MS);
    if (epoch === this.epoch && until > now) {
      this.entries.delete(credential);
      this.entries.set(credential, { principal, until });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
    return principal;
  }

  invalidate(change: AuthInvalidation) {
    this.epoch++;
    if (change.all) return this.entries.clear();
    const users = new Set(change.users);
    const sessions = new Set(change.sessions);
    const apiKeys = new Set(change.apiKeys);
    for (const [credential, { principal }] of this.entries) {
      if (!principal) continue; // inactive stays inactive
      const hit =
        users.has(principal.subject) ||
        (principal.sessionId !== undefined && sessions.has(principal.sessionId)) ||
        (principal.apiKeyId !== undefined && apiKeys.has(principal.apiKeyId));
      if (hit) this.entries.delete(credential);
    }
  }

  close() {
    this.unsubscribe();
    this.entries.clear();
    this.inFlight.clear();
  }
}

/** A message that cannot be read invalidates everything: safe, if slower for a moment. */
function parseInvalidation(message: string): AuthInvalidation {
  try {
    const parsed = JSON.parse(message) as AuthInvalidation;
    return typeof parsed === "object" && parsed !== null ? parsed : { all: true };
  } catch {
    return { all: true };
  }
}
