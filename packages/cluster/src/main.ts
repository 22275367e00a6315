import { DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORT, serviceProcesses, type ProcessName } from "@inv/api";
import { commonConfigProperties, createLogger, loadConfig, onShutdownSignal, type CommonConfig } from "@inv/platform";
import { startCluster } from "./index.js";

interface ClusterConfig extends CommonConfig {
  HOST: string;
  HTTP_PORT: number;
  WAREHOUSE_GRPC_PORT: number;
  INVENTORY_GRPC_PORT: number;
  RESERVATION_GRPC_PORT: number;
  USER_GRPC_PORT: number;
}

const port = (fallback: number) => ({ type: "integer", minimum: 0, maximum: 65535, default: fallback });
const config = loadConfig<ClusterConfig>({
  type: "object",
  properties: {
    ...commonConfigProperties,
    HOST: { type: "string", minLength: 1, default: "127.0.0.1" },
    HTTP_PORT: port(DEFAULT_HTTP_PORT),
    WAREHOUSE_GRPC_PORT: port(DEFAULT_GRPC_PORTS.warehouse),
    INVENTORY_GRPC_PORT: port(DEFAULT_GRPC_PORTS.inventory),
    RESERVATION_GRPC_PORT: port(DEFAULT_GRPC_PORTS.reservation),
    USER_GRPC_PORT: port(DEFAULT_GRPC_PORTS.user),
  },
  required: ["HOST", "HTTP_PORT"],
} as never);

const log = createLogger("cluster", config.LOG_LEVEL);
const grpcPorts: Record<ProcessName, number> = {
  warehouse: config.WAREHOUSE_GRPC_PORT,
  inventory: config.INVENTORY_GRPC_PORT,
  reservation: config.RESERVATION_GRPC_PORT,
  user: config.USER_GRPC_PORT,
};
const cluster = await startCluster({
  host: config.HOST,
  httpPort: config.HTTP_PORT,
  grpcPorts,
  databaseUrl: config.DATABASE_URL,
  dataDir: config.DATA_DIR,
  redisUrl: config.REDIS_URL,
  log,
});

const storage = config.DATABASE_URL ? "Postgres (DATABASE_URL)" : `embedded PGlite under ${config.DATA_DIR}`;
const cache = config.REDIS_URL ? "Redis (REDIS_URL)" : "in-process";
const lines = [
  "",
  "Inventory platform is running",
  `  REST, Connect, gRPC-Web  ${cluster.edge.url}   (API description: ${cluster.edge.url}/openapi.json)`,
  ...cluster.services.map((s) => {
    const names = serviceProcesses.find((p) => p.name === s.name)!.services.map((d) => d.typeName).join(", ");
    return `  gRPC ${s.name.padEnd(12)} ${s.server.address}   ${names}`;
  }),
  `  storage: ${storage}; cache: ${cache}`,
  "  Ctrl-C stops it.",
  "",
];
process.stdout.write(`${lines.join("\n")}\n`);
onShutdownSignal(log, async () => {
  await cluster.stop();
  process.stdout.write("Inventory platform stopped.\n");
});
