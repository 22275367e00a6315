import { status } from "@grpc/grpc-js";
import { WarehouseService, type Location, type Warehouse } from "@inv/gen/warehouse/v1/warehouse_pb";
import {
  FailedPrecondition,
  Internal,
  RemoteError,
  UUID_PATTERN,
  Unavailable,
  alreadyDeleted,
  invalid,
  notFound,
  type Bus,
  type GrpcChannel,
  type Logger,
  type ServiceIdentity,
  type ServiceResources,
} from "@inv/platform";
import { WAREHOUSE_CHANGED_CHANNEL } from "@inv/service-catalog";

/**
 * What the inventory service knows of warehouses and locations: only what the warehouse service
 * tells it. Stock may only be placed in a warehouse (and location) that exists and is active;
 * holds need each warehouse's code and priority. Implementations cache the answers.
 */
export interface WarehouseInfo {
  id: string;
  code: string;
  priority: number;
  active: boolean;
  deleted: boolean;
}

export interface LocationInfo {
  id: string;
  warehouseId: string;
  code: string;
  /** The path of codes from the warehouse's top level down to this location, e.g. "Z1/A-03/S2". */
  path: string;
  locationTypeId: string;
  active: boolean;
  deleted: boolean;
}

/** A kind of location (shelf, bin, dock): reports group stock by it. */
export interface LocationTypeInfo {
  id: string;
  name: string;
}

/**
 * Lookups fail rather than guess: when the warehouse service cannot be asked they throw
 * UNAVAILABLE, never answer "missing" or "active".
 */
export interface WarehouseDirectory {
  /** The warehouse with this id, deleted or not; undefined when there is none. */
  warehouse(id: string): Promise<WarehouseInfo | undefined>;
  /** The location with this id, deleted or not; undefined when there is none. */
  location(id: string): Promise<LocationInfo | undefined>;
  /** The location type with this id, deleted or not; undefined when there is none. */
  locationType(id: string): Promise<LocationTypeInfo | undefined>;
}

/**
 * Several warehouses at once (holds: each one's code, priority and active flag), by id: those
 * that exist, deleted or not; the missing are absent. The lookups run together, and each id is
 * asked once (the directory caches answers and shares concurrent calls for one id).
 */
export async function warehousesById(directory: WarehouseDirectory, ids: Iterable<string>): Promise<Map<string, WarehouseInfo>> {
  const unique = [...new Set(ids)];
  const found = await Promise.all(unique.map((id) => directory.warehouse(id)));
  return new Map(unique.flatMap((id, i) => (found[i] ? [[id, found[i]] as const] : [])));
}

/** A directory that also listens to the bus, to stop with its service. */
export interface ListeningDirectory extends WarehouseDirectory {
  close(): void;
}

/** Where stock is to be placed. */
export interface Place {
  warehouseId: string;
  /** Empty, null or undefined: at the warehouse, at no location. */
  locationId?: string | null | undefined;
}

/** The request fields that named the place, for errors. */

export interface PlaceFields {
  warehouse: string;
  location?: string | undefined;
}

/**
 * Checks that stock may be placed here, and returns what the warehouse service said of it:
 * - a warehouse or location that does not exist: NOT_FOUND, naming its field;
 * - a location of another warehouse: INVALID_ARGUMENT, constraint "same_warehouse";
 * - a deleted one: FAILED_PRECONDITION, reason DELETED; an inactive one: FAILED_PRECONDITION,
 *   reason WAREHOUSE_INACTIVE or LOCATION_INACTIVE, naming its field;
 * - the warehouse service unreachable: UNAVAILABLE (from the directory). It never passes unchecked.
 */
export async function requireActivePlace(
  directory: WarehouseDirectory,
  place: Place,
  fields: PlaceFields = { warehouse: "warehouse_id", location: "location_id" },
): Promise<{ warehouse: WarehouseInfo; location: LocationInfo | undefined }> {
  const locationId = place.locationId || undefined;
  const locationField = fields.location ?? "location_id";
  const [warehouse, location] = await Promise.all([
    directory.warehouse(place.warehouseId),
    locationId === undefined ? undefined : directory.location(locationId),
  ]);
  if (!warehouse) throw notFound("warehouse", place.warehouseId, fields.warehouse);
  if (locationId !== undefined) {
    if (!location) throw notFound("location", locationId, locationField);
    if (location.warehouseId !== warehouse.id) {
      throw invalid(locationField, "same_warehouse", `location ${locationId} belongs to another warehouse than ${warehouse.id}`, locationId);
    }
  }
  if (warehouse.deleted) throw alreadyDeleted("warehouse", warehouse.id, fields.warehouse);
  if (!warehouse.active) throw inactive("warehouse", warehouse.id, fields.warehouse, "WAREHOUSE_INACTIVE");
  if (location?.deleted) throw alreadyDeleted("location", location.id, locationField);
  if (location && !location.active) throw inactive("location", location.id, locationField, "LOCATION_INACTIVE");
  return { warehouse, location };
}

/**
 * Asks the directory about places before a write opens its transaction, so that the check inside
 * it (requireActivePlace) is answered from the directory's cache instead of holding the
 * transaction, and its locks, open across a call to the warehouse service. What it learns is
 * only a warm-up: errors are left for the check to raise, and a write that turns out to be a
 * replay never checks at all.
 */
export async function prefetchPlaces(directory: WarehouseDirectory, places: readonly Place[]): Promise<void> {
  const warehouseIds = new Set(places.map((p) => p.warehouseId));
  const locationIds = new Set(places.flatMap((p) => (p.locationId ? [p.locationId] : [])));
  await Promise.allSettled([...[...warehouseIds].map((id) => directory.warehouse(id)), ...[...locationIds].map((id) => directory.location(id))]);
}

const inactive = (kind: string, id: string, field: string, reason: string) =>
  new FailedPrecondition(`${kind} ${id} is inactive: no stock may be placed there`, { field, value: id, constraint: "active" }, reason);

export interface GrpcDirectoryOptions {
  /** The channel to the warehouse service (ServiceResources.peer("warehouse")), asked for at the first lookup. */
  channel: () => GrpcChannel;
  /** The inventory service's own identity: it asks as itself (the service role holds warehouse.read). */
  identity: ServiceIdentity;
  /** Where the warehouse service announces its changes (WAREHOUSE_CHANGED_CHANNEL). */
  bus: Bus;
  log: Logger;
  /** How long an answer is kept, in milliseconds; at most MAX_ANSWER_TTL_MS, which is the default. */
  ttlMs?: number;
  /** Answers kept per kind (warehouses, locations); the oldest go first. */
  maxEntries?: number;
}

/** The longest an answer of the warehouse service is kept, should its change announcement be lost. */
export const MAX_ANSWER_TTL_MS = 30_000;

/**
 * The directory over gRPC: warehouse.v1.WarehouseService GetWarehouse and GetLocation, asked as
 * the inventory service itself. Answers (a missing id too) are kept in this process for up to
 * MAX_ANSWER_TTL_MS, and dropped as soon as the warehouse service announces a change of that id
 * on the bus (all of them when the bus may have missed messages); a lookup that started before
 * such an announcement does not keep its answer, which may predate the change. Concurrent
 * lookups of one id share one call.
 */
export function grpcWarehouseDirectory(opts: GrpcDirectoryOptions): ListeningDirectory {
  const ttlMs = Math.min(opts.ttlMs ?? MAX_ANSWER_TTL_MS, MAX_ANSWER_TTL_MS);
  const metadata = () => ({ "x-service-token": opts.identity.tokenFor("warehouse") });
  const ask = async <T>(kind: string, id: string, call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (err) {
      const failure = remoteFailure(err, kind, id, opts.log);
      if (failure) throw failure;
      return undefined;
    }
  };
  const warehouses = new Answers<WarehouseInfo>(
    ttlMs,
    (id) =>
      ask("warehouse", id, async () => {
        const { warehouse } = await opts.channel().unary(WarehouseService.method.getWarehouse, { id }, { metadata: metadata() });
        return warehouse && warehouseInfo(warehouse);
      }),
    opts.maxEntries,
  );
  const locations = new Answers<LocationInfo>(
    ttlMs,
    (id) =>
      ask("location", id, async () => {
        const { location } = await opts.channel().unary(WarehouseService.method.getLocation, { id }, { metadata: metadata() });
        return location && locationInfo(location);
      }),
    opts.maxEntries,
  );
  const locationTypes = new Answers<LocationTypeInfo>(
    ttlMs,
    (id) =>
      ask("location type", id, async () => {
        const { locationType } = await opts.channel().unary(WarehouseService.method.getLocationType, { id }, { metadata: metadata() });
        return locationType && { id: locationType.id, name: locationType.name };
      }),
    opts.maxEntries,
  );
  const all = [warehouses, locations, locationTypes];
  const unsubscribe = opts.bus.subscribe(
    WAREHOUSE_CHANGED_CHANNEL,
    (message) => {
      const id = message.trim().toLowerCase();
      for (const answers of all) answers.drop(id);
    },
    () => {
      for (const answers of all) answers.clear();
    },
  );
  return {
    warehouse: (id) => warehouses.get(id),
    location: (id) => locations.get(id),
    locationType: (id) => locationTypes.get(id),
    close: unsubscribe,
  };
}

/** The directory of a running inventory service: the warehouse service at its peer channel. */
export const warehouseDirectory = (resources: ServiceResources, opts: { ttlMs?: number } = {}): ListeningDirectory =>
  grpcWarehouseDirectory({ channel: () => resources.peer("warehouse"), identity: resources.identity, bus: resources.bus, log: resources.log, ...opts });

const warehouseInfo = (w: Warehouse): WarehouseInfo => ({
  id: w.id,
  code: w.code,
  priority: w.priority,
  active: w.active === true,
  deleted: w.deleteTime !== undefined,
});

const locationInfo = (l: Location): LocationInfo => ({
  id: l.id,
  warehouseId: l.warehouseId,
  code: l.code,
  path: l.path,
  locationTypeId: l.locationTypeId,
  active: l.active === true,
  deleted: l.deleteTime !== undefined,
});

/** Codes that say the warehouse service could not be reached or could not answer in time. */
const UNREACHABLE: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED, status.RESOURCE_EXHAUSTED]);

/**
 * NOT_FOUND becomes "no such place" (undefined); anything else fails the lookup: UNAVAILABLE when
 * the warehouse service could not be reached, INTERNAL when it refused (a misconfiguration, e.g.
 * another SERVICE_SECRET). Either way nothing is assumed.
 */
function remoteFailure(err: unknown, kind: string, id: string, log: Logger): Error | undefined {
  if (err instanceof RemoteError && err.code === status.NOT_FOUND) return undefined;
  if (err instanceof RemoteError && UNREACHABLE.has(err.code)) {
    log.warn({ err, kind, id }, "the warehouse service cannot be reached");
    const unavailable = new Unavailable(
      `the warehouse service cannot be reached to check ${kind} ${id}; try again shortly`,
      undefined,
      "WAREHOUSE_UNAVAILABLE",
    );
    unavailable.retryAfterSeconds = 1;
    return unavailable;
  }
  log.error({ err, kind, id }, "the warehouse service refused to describe a place");
  return err instanceof RemoteError ? new Internal(`the warehouse service did not describe ${kind} ${id}`) : (err as Error);
}

/**
 * Answers by id, each kept until `ttlMs` has passed or it is dropped. `epoch` advances with every
 * drop: a load that started in an earlier epoch returns its answer to its callers but keeps nothing.
 */
class Answers<T> {
  private readonly entries = new Map<string, { value: T | undefined; until: number }>();
  private readonly loading = new Map<string, Promise<T | undefined>>();
  private epoch = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly load: (id: string) => Promise<T | undefined>,
    private readonly maxEntries = 10_000,
  ) {}

  get(rawId: string): Promise<T | undefined> {
    const id = rawId.toLowerCase();
    // Not an id the warehouse service could have made: no such place, and no call to find out.
    if (!UUID_PATTERN.test(id)) return Promise.resolve(undefined);
    const hit = this.entries.get(id);
    if (hit && hit.until > Date.now()) return Promise.resolve(hit.value);
    const pending = this.loading.get(id);
    if (pending) return pending;
    const epoch = this.epoch;
    const loaded = this.load(id).then(
      (value) => {
        if (this.loading.get(id) === loaded) this.loading.delete(id);
        if (epoch === this.epoch) this.keep(id, value);
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(id) === loaded) this.loading.delete(id);
        throw err;
      },
    );
    this.loading.set(id, loaded);
    return loaded;
  }

  drop(id: string) {
    this.epoch++;
    this.entries.delete(id);
    this.loading.delete(id);
  }

  clear() {
    this.epoch++;
    this.entries.clear();
    this.loading.clear();
  }

  private keep(id: string, value: T | undefined) {
    this.entries.delete(id);
    this.entries.set(id, { value, until: Date.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
