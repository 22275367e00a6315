import { DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORT, processOf, publicServices, type ProcessName } from "@inv/api";
import { commonConfigProperties, createLogger, loadConfig, onShutdownSignal, type CommonConfig } from "@inv/platform";
import { startEdge } from "./index.js";

interface EdgeConfig extends CommonConfig {
  HTTP_PORT: number;
  HTTP_HOST: string;
  CORS_ALLOWED_ORIGINS: string;
  UPSTREAM_DEADLINE_MS: number;
  WAREHOUSE_GRPC_TARGET: string;
  INVENTORY_GRPC_TARGET: string;
  RESERVATION_GRPC_TARGET: string;
  USER_GRPC_TARGET: string;
}

const target = (name: string, port: number) => ({ type: "string", minLength: 1, default: `dns:///127.0.0.1:${port}`, description: `gRPC target of the ${name} service` });

const config = loadConfig<EdgeConfig>({
  type: "object",
  properties: {
    ...commonConfigProperties,
    HTTP_PORT: { type: "integer", minimum: 0, maximum: 65535, default: DEFAULT_HTTP_PORT },
    HTTP_HOST: { type: "string", minLength: 1, default: "0.0.0.0" },
    CORS_ALLOWED_ORIGINS: { type: "string", default: "*" },
    UPSTREAM_DEADLINE_MS: { type: "integer", minimum: 100, maximum: 300_000, default: 10_000 },
    WAREHOUSE_GRPC_TARGET: target("warehouse", DEFAULT_GRPC_PORTS.warehouse),
    INVENTORY_GRPC_TARGET: target("inventory", DEFAULT_GRPC_PORTS.inventory),
    RESERVATION_GRPC_TARGET: target("reservation", DEFAULT_GRPC_PORTS.reservation),
    USER_GRPC_TARGET: target("user", DEFAULT_GRPC_PORTS.user),
  },
  required: ["HTTP_PORT", "HTTP_HOST"],
} as never);

const targets: Record<ProcessName, string> = {
  warehouse: config.WAREHOUSE_GRPC_TARGET,
  inventory: config.INVENTORY_GRPC_TARGET,
  reservation: config.RESERVATION_GRPC_TARGET,
  user: config.USER_GRPC_TARGET,
};
const log = createLogger("edge", config.LOG_LEVEL);
const edge = await startEdge({
  port: config.HTTP_PORT,
  host: config.HTTP_HOST,
  services: publicServices,
  targetOf: (service) => targets[processOf(service).name],
  log,
  corsOrigins: config.CORS_ALLOWED_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean),
  upstreamDeadlineMs: config.UPSTREAM_DEADLINE_MS,
});
onShutdownSignal(log, () => edge.stop());
