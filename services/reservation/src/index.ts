import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, type ServiceDefinitionOptions, type ServiceResources } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import type { TtlBounds } from "./domain/rules.js";
import { reservationService } from "./handlers/reservations.js";
import { grpcStockHolds, type StockHolds } from "./inventory.js";
import type { Saga } from "./saga.js";
import { auditOutbox } from "./store/schema.js";
import { startSweeper } from "./sweeper.js";
import { grpcWarehouseList, type WarehouseList } from "./warehouses.js";

export const RESERVATION_DEFAULT_PORT = processNamed("reservation").grpcPort;

/** The reservation service's own settings, from the environment. */
export interface ReservationConfig {
  RESERVATION_TTL_MIN_SECONDS: number;
  RESERVATION_TTL_MAX_SECONDS: number;
  RESERVATION_TTL_DEFAULT_SECONDS: number;
  RESERVATION_SWEEP_INTERVAL_MS: number;
  RESERVATION_PENDING_GRACE_MS: number;
  RESERVATION_INVENTORY_DEADLINE_MS: number;
}

export function readReservationConfig(env: NodeJS.ProcessEnv = process.env): ReservationConfig {
  const config = loadConfig<ReservationConfig>(
    {
      type: "object",
      properties: {
        RESERVATION_TTL_MIN_SECONDS: { type: "integer", minimum: 1, default: 60 },
        RESERVATION_TTL_MAX_SECONDS: { type: "integer", minimum: 1, maximum: 30 * 86_400, default: 7 * 86_400 },
        RESERVATION_TTL_DEFAULT_SECONDS: { type: "integer", minimum: 1, default: 15 * 60 },
        RESERVATION_SWEEP_INTERVAL_MS: { type: "integer", minimum: 50, default: 1000 },
        RESERVATION_PENDING_GRACE_MS: { type: "integer", minimum: 100, default: 5_000 },
        RESERVATION_INVENTORY_DEADLINE_MS: { type: "integer", minimum: 100, default: 3000 },
      },
      required: [
        "RESERVATION_TTL_MIN_SECONDS",
        "RESERVATION_TTL_MAX_SECONDS",
        "RESERVATION_TTL_DEFAULT_SECONDS",
        "RESERVATION_SWEEP_INTERVAL_MS",
        "RESERVATION_PENDING_GRACE_MS",
        "RESERVATION_INVENTORY_DEADLINE_MS",
      ],
    },
    env,
  );
  const { RESERVATION_TTL_MIN_SECONDS: min, RESERVATION_TTL_MAX_SECONDS: max, RESERVATION_TTL_DEFAULT_SECONDS: fallback } = config;
  if (!(min <= fallback && fallback <= max)) {
    throw new ConfigError(
      `invalid configuration: RESERVATION_TTL_DEFAULT_SECONDS (${fallback}) must lie between the minimum (${min}) and the maximum (${max})`,
    );
  }
  return config;
}

export interface ReservationOptions {
  config?: Partial<ReservationConfig>;
  /** Replaces inventory's HoldService over gRPC (tests). */
  holds?: (resources: ServiceResources) => StockHolds;
  /** Replaces the warehouse service's list of active warehouses (tests). */
  warehouses?: (resources: ServiceResources) => WarehouseList;
}

/**
 * The reservation service, in schema "reservation": reservations and their life cycle. It holds
 * stock through inventory's HoldService (as itself, by reservation id), asks the warehouse service
 * which warehouses are active, and runs a sweeper that expires reservations and repairs those a
 * crash left PENDING.
 */
export function reservationDefinition(opts: ReservationOptions = {}): ServiceDefinitionOptions {
  const sagas = new WeakMap<ServiceResources, Saga & { ttl: TtlBounds }>();
  return {
    name: "reservation",
    database: { schema: "reservation", migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)) },
    onStart: async (resources) => {
      const config = { ...readReservationConfig(), ...opts.config };
      const warehouses = (opts.warehouses ?? ((r) => grpcWarehouseList(r, config.RESERVATION_INVENTORY_DEADLINE_MS)))(resources);
      const saga = {
        db: resources.db,
        holds: (opts.holds ?? ((r) => grpcStockHolds(r, config.RESERVATION_INVENTORY_DEADLINE_MS)))(resources),
        warehouses,
        ttl: {
          minSeconds: config.RESERVATION_TTL_MIN_SECONDS,
          maxSeconds: config.RESERVATION_TTL_MAX_SECONDS,
          defaultSeconds: config.RESERVATION_TTL_DEFAULT_SECONDS,
        },
      };
      sagas.set(resources, saga);
      const stopSweeper = startSweeper(
        saga,
        { intervalMs: config.RESERVATION_SWEEP_INTERVAL_MS, pendingGraceMs: config.RESERVATION_PENDING_GRACE_MS },
        resources.log,
      );
      return async () => {
        await stopSweeper();
        warehouses.close?.();
      };
    },
    register: (resources) => {
      const saga = sagas.get(resources);
      if (!saga) throw new Error("the reservation service registers its handlers only after it started");
      return [reservationService(saga)];
    },
    audit: { outbox: auditOutbox },
  };
}

export const reservationServiceDefinition: ServiceDefinitionOptions = reservationDefinition();
