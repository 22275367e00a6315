import { createLogger, onShutdownSignal } from "@inv/platform";
import { serviceProcess } from "@inv/service-catalog/descriptors";
import { grpcPortsOf, loadClusterConfig } from "./config.js";
import { startCluster } from "./index.js";

const config = loadClusterConfig();
const log = createLogger("cluster", config.LOG_LEVEL);
const cluster = await startCluster({
  host: config.HOST,
  httpPort: config.HTTP_PORT,
  grpcPorts: grpcPortsOf(config),
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
  ...cluster.services.map(({ name, server }) => {
    const names = serviceProcess(name)
      .services.map((d) => d.typeName)
      .join(", ");
    return `  gRPC ${name.padEnd(12)} ${server.address}   ${names}`;
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
