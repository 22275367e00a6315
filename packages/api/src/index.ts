import type { DescService } from "@bufbuild/protobuf";
import { HoldService } from "@inv/gen/inventory/v1/hold_pb";
import { ItemService } from "@inv/gen/inventory/v1/item_pb";
import { ReportService } from "@inv/gen/inventory/v1/report_pb";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import { TrackedUnitService } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { ReservationService } from "@inv/gen/reservation/v1/reservation_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";

import { DEFAULT_GRPC_PORTS, type ProcessName } from "./processes.js";

export { DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORT, type ProcessName } from "./processes.js";

/** One service process: the gRPC services it serves and where it listens unless told otherwise. */
export interface ServiceProcess {
  readonly name: ProcessName;
  readonly defaultPort: number;
  readonly services: readonly DescService[];
}

/** Every service process of the platform. The edge forwards to these; `npm start` runs them all. */
export const serviceProcesses: readonly ServiceProcess[] = [
  { name: "warehouse", defaultPort: DEFAULT_GRPC_PORTS.warehouse, services: [WarehouseService] },
  { name: "inventory", defaultPort: DEFAULT_GRPC_PORTS.inventory, services: [ItemService, StockService, HoldService, TrackedUnitService, ReportService] },
  { name: "reservation", defaultPort: DEFAULT_GRPC_PORTS.reservation, services: [ReservationService] },
  { name: "user", defaultPort: DEFAULT_GRPC_PORTS.user, services: [UserService] },
];

/** Every public service, in catalog order. */
export const publicServices: readonly DescService[] = serviceProcesses.flatMap((p) => p.services);

/** The process that serves a service. */
export function processOf(service: DescService): ServiceProcess {
  const found = serviceProcesses.find((p) => p.services.includes(service));
  if (!found) throw new Error(`${service.typeName} is not in the service catalog`);
  return found;
}
