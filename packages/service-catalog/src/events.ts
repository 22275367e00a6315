/**
 * The bus channels one process announces on and others listen to (Redis pub/sub under REDIS_URL,
 * in process on the embedded default): fire-and-forget invalidations, published after the change
 * committed, so a listener that re-reads sees the change. A listener must not depend on hearing
 * every message: it keeps what it caches only briefly, and drops it all when the bus resyncs.
 */

/**
 * The warehouse service changed or deleted a warehouse or a location; the message is its id.
 * The inventory service drops what it cached about that id.
 */
export const WAREHOUSE_CHANGED_CHANNEL = "warehouse.changed";
