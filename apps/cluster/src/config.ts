import { commonConfigProperties, loadConfig, type CommonConfig } from "@inv/platform";
import { edge, grpcPortVariable, perProcess, processNames, type GrpcPortVariable, type ProcessName } from "@inv/service-catalog";

/** `npm start`'s environment: the shared variables, where to listen, and one gRPC port per process of the catalog. */
export type ClusterConfig = CommonConfig & { HOST: string; HTTP_PORT: number } & Record<GrpcPortVariable, number>;

const port = (fallback: number) => ({ type: "integer", minimum: 0, maximum: 65535, default: fallback }) as const;

export const clusterConfigSchema: Parameters<typeof loadConfig<ClusterConfig>>[0] = {
  type: "object",
  properties: {
    ...commonConfigProperties,
    HOST: { type: "string", minLength: 1, default: "127.0.0.1" },
    HTTP_PORT: port(edge.httpPort),
    ...perProcess(grpcPortVariable, (p) => port(p.grpcPort)),
  },
  required: ["LOG_LEVEL", "DATA_DIR", "HOST", "HTTP_PORT", ...processNames.map(grpcPortVariable)],
};

export const loadClusterConfig = (env: NodeJS.ProcessEnv = process.env): ClusterConfig => loadConfig(clusterConfigSchema, env);

/** The gRPC port of each process, by name. */
export function grpcPortsOf(config: ClusterConfig): Record<ProcessName, number> {
  return perProcess(
    (name) => name,
    (p) => config[grpcPortVariable(p.name)],
  );
}
