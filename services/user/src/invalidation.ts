import { AUTH_INVALIDATE_CHANNEL, type AuthInvalidation, type Bus, type ServiceResources } from "@inv/platform";

type Logger = ServiceResources["log"];

/** Announces changes of rights to every process, after they committed. */
export type Invalidate = (what: AuthInvalidation) => Promise<void>;

/**
 * Publishes on the bus (docs/decisions/0007-identity-and-access.md, "Current rights"). Called
 * only after the commit: published before it, a process could re-read the old rights and cache
 * them again. A failed publish is logged, not thrown: the change stands, and caches expire
 * within cache_seconds anyway.
 */
export function invalidator(bus: Bus | undefined, log: Logger): Invalidate {
  return async (what) => {
    const empty = !what.all && !what.users?.length && !what.sessions?.length && !what.apiKeys?.length;
    if (!bus || empty) return;
    try {
      await bus.publish(AUTH_INVALIDATE_CHANNEL, JSON.stringify(what));
    } catch (err) {
      log.warn({ err, what }, "could not publish an auth invalidation; caches will expire on their own");
    }
  };
}
