/**
 * The service processes of the platform as the image runs them: the same names, entry points and gRPC ports
 * as `packages/api` (`serviceProcesses`) and `compose.yaml`. Kept here, not imported, so that deploying needs
 * no generated code.
 */
export type ProcessName = "warehouse" | "inventory" | "reservation" | "user";

export interface ServiceProcess {
  readonly name: ProcessName;
  readonly grpcPort: number;
  readonly command: readonly string[];
}

const entryPoint = (name: ProcessName) => ["node", "--import", "tsx", `services/${name}/src/main.ts`];

export const serviceProcesses: readonly ServiceProcess[] = [
  { name: "warehouse", grpcPort: 50051, command: entryPoint("warehouse") },
  { name: "inventory", grpcPort: 50052, command: entryPoint("inventory") },
  { name: "reservation", grpcPort: 50053, command: entryPoint("reservation") },
  { name: "user", grpcPort: 50054, command: entryPoint("user") },
];

export const edgeProcess = {
  name: "edge",
  httpPort: 8080,
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
