import type { Bus, Logger } from "@inv/platform";
import { WAREHOUSE_CHANGED_CHANNEL } from "@inv/service-catalog";

/** Tells every process that a warehouse or a location was made or changed; called after the change committed. */
export type Announce = (id: string) => Promise<void>;

/**
 * Publishes the id of a changed warehouse or location on the bus (WAREHOUSE_CHANGED_CHANNEL),
 * so that the inventory service drops what it cached about it, and the reservation service its
 * list of active warehouses, at once. Only after the commit:
 * published before it, a listener could re-read the old state and cache it again. A failed
 * publish is logged, not thrown: the change stands, and listeners' caches expire on their own
 * within seconds.
 */
export function announcer(bus: Bus, log: Logger): Announce {
  return async (id) => {
    try {
      await bus.publish(WAREHOUSE_CHANGED_CHANNEL, id);
    } catch (err) {
      log.warn({ err, id }, "could not announce a warehouse change; caches elsewhere will expire on their own");
    }
  };
}
