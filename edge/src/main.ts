import { commonConfigProperties, createLogger, loadConfig, onShutdownSignal } from "@inv/platform";
import { edge, grpcTarget, grpcTargetVariable, perProcess, processNames, type GrpcTargetVariable } from "@inv/service-catalog";
import { processOf, publicServices } from "@inv/service-catalog/descriptors";
import { startEdge } from "./index.js";

type EdgeConfig = {
  LOG_LEVEL: string;
  REDIS_URL?: string;
  HTTP_PORT: number;
  HTTP_HOST: string;
  CORS_ALLOWED_ORIGINS: string;
  UPSTREAM_DEADLINE_MS: number;
} & Record<GrpcTargetVariable, string>; // one target per process of the catalog

const config = loadConfig<EdgeConfig>({
  type: "object",
  properties: {
    LOG_LEVEL: commonConfigProperties.LOG_LEVEL,
    REDIS_URL: commonConfigProperties.REDIS_URL,
    HTTP_PORT: { type: "integer", minimum: 0, maximum: 65535, default: edge.httpPort },
    HTTP_HOST: { type: "string", minLength: 1, default: "0.0.0.0" },
    CORS_ALLOWED_ORIGINS: { type: "string", default: "*" },
    UPSTREAM_DEADLINE_MS: { type: "integer", minimum: 100, maximum: 300_000, default: 10_000 },
    ...perProcess(grpcTargetVariable, (p) => ({ type: "string", minLength: 1, default: grpcTarget(p, "127.0.0.1") }) as const),
  },
  required: ["LOG_LEVEL", "HTTP_PORT", "HTTP_HOST", "CORS_ALLOWED_ORIGINS", "UPSTREAM_DEADLINE_MS", ...processNames.map(grpcTargetVariable)],
});

const log = createLogger("edge", config.LOG_LEVEL);
const running = await startEdge({
  port: config.HTTP_PORT,
  host: config.HTTP_HOST,
  services: publicServices,
  targetOf: (service) => config[grpcTargetVariable(processOf(service).name)],
  log,
  corsOrigins: config.CORS_ALLOWED_ORIGINS.split(",")
    .map((o) => o.trim())
    .filter(Boolean),
  upstreamDeadlineMs: config.UPSTREAM_DEADLINE_MS,
});
onShutdownSignal(log, () => running.stop());
