import { DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORT, type ProcessName } from "@inv/api/processes";

/**
 * The service processes of the platform as the image runs them: the names and gRPC ports of
 * `@inv/api/processes` (which needs no generated code), and the entry points `compose.yaml` uses.
 */
export type { ProcessName };

export interface ServiceProcess {
  readonly name: ProcessName;
  readonly grpcPort: number;
  readonly command: readonly string[];
}

const entryPoint = (name: ProcessName) => ["node", "--import", "tsx", `services/${name}/src/main.ts`];

export const serviceProcesses: readonly ServiceProcess[] = (Object.keys(DEFAULT_GRPC_PORTS) as ProcessName[]).map((name) => ({
  name,
  grpcPort: DEFAULT_GRPC_PORTS[name],
  command: entryPoint(name),
}));

export const edgeProcess = {
  name: "edge",
  httpPort: DEFAULT_HTTP_PORT,
  command: ["node", "--import", "tsx", "edge/src/main.ts"],
} as const;

/** `WAREHOUSE_GRPC_TARGET` and friends: the variables through which a process finds the others. */
export function grpcTargetVariable(name: ProcessName): string {
  return `${name.toUpperCase()}_GRPC_TARGET`;
}

/** grpc-js target resolved through Cloud Map's multivalue A records, so `round_robin` spreads calls over tasks. */
export function grpcTarget(process: ServiceProcess, serviceDomain: string): string {
  return `dns:///${process.name}.${serviceDomain}:${process.grpcPort}`;
}

/** The environment entries that point at every service process. */
export function grpcTargets(serviceDomain: string): { name: string; value: string }[] {
  return serviceProcesses.map((p) => ({ name: grpcTargetVariable(p.name), value: grpcTarget(p, serviceDomain) }));
}
