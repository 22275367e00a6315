import { commonConfigProperties, createLogger, exitOnConfigError, loadConfig, onShutdownSignal } from "@inv/platform";
import { edge, grpcTarget, grpcTargetVariable, perProcess, processNames, type GrpcTargetVariable } from "@inv/service-catalog";
import { processOf, publicServices } from "@inv/service-catalog/descriptors";
import { DEFAULT_RATE_LIMITS, startEdge } from "./index.js";

type EdgeConfig = {
  LOG_LEVEL: string;
  REDIS_URL?: string;
  HTTP_PORT: number;
  HTTP_HOST: string;
  CORS_ALLOWED_ORIGINS: string;
  UPSTREAM_DEADLINE_MS: number;
  RATE_LIMIT_PER_ADDRESS: number;
  RATE_LIMIT_PER_USER: number;
  RATE_LIMIT_PER_API_KEY: number;
  TRUST_PROXY_HOPS: number;
  SERVICE_SECRET: string;
} & Record<GrpcTargetVariable, string>; // one target per process of the catalog

const readConfig = () =>
  loadConfig<EdgeConfig>({
    type: "object",
    properties: {
      LOG_LEVEL: commonConfigProperties.LOG_LEVEL,
      REDIS_URL: commonConfigProperties.REDIS_URL,
      HTTP_PORT: { type: "integer", minimum: 0, maximum: 65535, default: edge.httpPort },
      HTTP_HOST: { type: "string", minLength: 1, default: "0.0.0.0" },
      CORS_ALLOWED_ORIGINS: { type: "string", default: "*" },
      UPSTREAM_DEADLINE_MS: { type: "integer", minimum: 100, maximum: 300_000, default: 10_000 },
      // Requests per minute; 0 turns a limit off (see DEFAULT_RATE_LIMITS for why these defaults).
      RATE_LIMIT_PER_ADDRESS: { type: "integer", minimum: 0, default: DEFAULT_RATE_LIMITS.perAddress.points },
      RATE_LIMIT_PER_USER: { type: "integer", minimum: 0, default: DEFAULT_RATE_LIMITS.perUser.points },
      RATE_LIMIT_PER_API_KEY: { type: "integer", minimum: 0, default: DEFAULT_RATE_LIMITS.perApiKey.points },
      TRUST_PROXY_HOPS: { type: "integer", minimum: 0, maximum: 10, default: 0 },
      SERVICE_SECRET: { type: "string", minLength: 32 },
      ...perProcess(grpcTargetVariable, (p) => ({ type: "string", minLength: 1, default: grpcTarget(p, "127.0.0.1") }) as const),
    },
    required: [
      "LOG_LEVEL",
      "HTTP_PORT",
      "HTTP_HOST",
      "CORS_ALLOWED_ORIGINS",
      "UPSTREAM_DEADLINE_MS",
      "RATE_LIMIT_PER_ADDRESS",
      "RATE_LIMIT_PER_USER",
      "RATE_LIMIT_PER_API_KEY",
      "TRUST_PROXY_HOPS",
      "SERVICE_SECRET",
      ...processNames.map(grpcTargetVariable),
    ],
  });

let config: EdgeConfig;
try {
  config = readConfig();
} catch (err) {
  exitOnConfigError("edge", err);
}

const log = createLogger("edge", config.LOG_LEVEL);
const running = await startEdge({
  port: config.HTTP_PORT,
  host: config.HTTP_HOST,
  services: publicServices,
  targetOf: (service) => config[grpcTargetVariable(processOf(service).name)],
  processOf: (service) => processOf(service).name,
  processNames,
  serviceSecret: config.SERVICE_SECRET,
  log,
  corsOrigins: config.CORS_ALLOWED_ORIGINS.split(",")
    .map((o) => o.trim())
    .filter(Boolean),
  upstreamDeadlineMs: config.UPSTREAM_DEADLINE_MS,
  rateLimits: {
    perAddress: { points: config.RATE_LIMIT_PER_ADDRESS, durationSeconds: 60 },
    perUser: { points: config.RATE_LIMIT_PER_USER, durationSeconds: 60 },
    perApiKey: { points: config.RATE_LIMIT_PER_API_KEY, durationSeconds: 60 },
    redisUrl: config.REDIS_URL,
  },
  trustProxyHops: config.TRUST_PROXY_HOPS,
});
onShutdownSignal(log, () => running.stop());
