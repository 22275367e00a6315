/**
 * The service processes and their default gRPC ports, with no generated code behind them, so
 * that deployment code (infra-pulumi) can share them without running codegen first.
 */
export type ProcessName = "warehouse" | "inventory" | "reservation" | "user";

export const DEFAULT_GRPC_PORTS: Readonly<Record<ProcessName, number>> = {
  warehouse: 50051,
  inventory: 50052,
  reservation: 50053,
  user: 50054,
};

/** The edge's default HTTP port. */
export const DEFAULT_HTTP_PORT = 8080;
