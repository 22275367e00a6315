import type { DescService } from "@bufbuild/protobuf";
import { HoldService } from "@inv/gen/inventory/v1/hold_pb";
import { ItemService } from "@inv/gen/inventory/v1/item_pb";
import { ReportService } from "@inv/gen/inventory/v1/report_pb";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import { StorageUsageService } from "@inv/gen/inventory/v1/storage_usage_pb";
import { TrackedUnitService } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { ReservationService } from "@inv/gen/reservation/v1/reservation_pb";
import { AuditRecordService } from "@inv/gen/user/v1/audit_pb";
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";

import { DEFAULT_GRPC_PORTS, type ProcessName } from "./processes.js";

export { DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORT, type ProcessName } from "./processes.js";

/** One service process: the gRPC services it serves and where it listens unless told otherwise. */
export interface ServiceProcess {
  readonly name: ProcessName;
  readonly defaultPort: number;
  /** Every gRPC service the process serves. */
  readonly services: readonly DescService[];
  /** The services only other services call: the edge never routes them. */
  readonly internal: readonly DescService[];
}

/** Every service process of the platform. The edge forwards to these; `npm start` runs them all. */
export const serviceProcesses: readonly ServiceProcess[] = [
  { name: "warehouse", defaultPort: DEFAULT_GRPC_PORTS.warehouse, services: [WarehouseService], internal: [] },
  { name: "inventory", defaultPort: DEFAULT_GRPC_PORTS.inventory, services: [ItemService, StockService, HoldService, StorageUsageService, TrackedUnitService, ReportService], internal: [HoldService, StorageUsageService] },
  { name: "reservation", defaultPort: DEFAULT_GRPC_PORTS.reservation, services: [ReservationService], internal: [] },
  { name: "user", defaultPort: DEFAULT_GRPC_PORTS.user, services: [UserService, TokenService, AuditRecordService], internal: [TokenService, AuditRecordService] },
];

/** Every service the edge exposes, in catalog order. */
export const publicServices: readonly DescService[] = serviceProcesses.flatMap((p) => p.services.filter((s) => !p.internal.includes(s)));

/** The process that serves a service. */
export function processOf(service: DescService): ServiceProcess {
  const found = serviceProcesses.find((p) => p.services.includes(service));
  if (!found) throw new Error(`${service.typeName} is not in the service catalog`);
  return found;
}
