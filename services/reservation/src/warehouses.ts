import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { Unavailable, type ServiceResources } from "@inv/platform";
import { unreachable } from "./inventory.js";
import { WAREHOUSE_CHANGED_CHANNEL } from "@inv/service-catalog";

export interface ActiveWarehouse {
  id: string;
  code: string;
  priority: number;
}

/**
 * The active warehouses, highest priority first (ties by code): where a reservation that names
 * no warehouses may take stock from, and the order a reservation's named warehouses are tried in.
 */
export interface WarehouseList {
  active(): Promise<ActiveWarehouse[]>;
  close?(): void;
}

const CACHE_MS = 30_000;
const PAGE = 500;

export const byPriority = (a: ActiveWarehouse, b: ActiveWarehouse) => b.priority - a.priority || a.code.localeCompare(b.code);

/**
 * The list from the warehouse service, asked as this service, kept for up to 30 s and dropped
 * when the warehouse service announces a change. When the warehouse service cannot be asked and
 * nothing is kept, it throws UNAVAILABLE: it never guesses.
 */
export function grpcWarehouseList(resources: ServiceResources, deadlineMs: number): WarehouseList {
  let kept: { at: number; list: Promise<ActiveWarehouse[]> } | undefined;
  const unsubscribe = resources.bus.subscribe(
    WAREHOUSE_CHANGED_CHANNEL,
    () => {
      kept = undefined;
    },
    () => {
      kept = undefined;
    },
  );
  const fetchAll = async (): Promise<ActiveWarehouse[]> => {
    const found: ActiveWarehouse[] = [];
    let pageToken = "";
    do {
      const page = await resources
        .peer("warehouse")
        .unary(
          WarehouseService.method.listWarehouses,
          { active: true, pageSize: PAGE, pageToken },
          { metadata: { "x-service-token": resources.identity.tokenFor("warehouse") }, deadlineMs },
        );
      for (const w of page.warehouses) found.push({ id: w.id, code: w.code, priority: w.priority });
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return found.sort(byPriority);
  };
  return {
    active() {
      if (!kept || Date.now() - kept.at > CACHE_MS) {
        const entry = {
          at: Date.now(),
          list: fetchAll().catch((err: unknown) => {
            if (kept === entry) kept = undefined;
            if (unreachable(err))
              throw new Unavailable("the warehouse service could not be asked which warehouses are active; retry", undefined, "WAREHOUSES_UNAVAILABLE");
            throw err;
          }),
        };
        kept = entry;
      }
      return kept.list;
    },
    close: unsubscribe,
  };
}
