import {
  edge,
  edgeHealthCheck,
  grpcTarget as grpcTargetOn,
  grpcTargetVariable,
  processes,
  type ProcessDeclaration,
  type ProcessName,
} from "@inv/service-catalog";

/**
 * The processes as the image runs them on Fargate, straight from the service catalog (plain data,
 * no generated code), so the stack, compose and `npm start` cannot disagree on names and ports.
 */
export type { ProcessName };
export type ServiceProcess = ProcessDeclaration;

export const serviceProcesses: readonly ServiceProcess[] = processes;

export const edgeProcess = { ...edge, healthCheck: edgeHealthCheck } as const;

/** grpc-js target resolved through Cloud Map's multivalue A records, so `round_robin` spreads calls over tasks. */
export function grpcTarget(process: ServiceProcess, serviceDomain: string): string {
  return grpcTargetOn(process, `${process.name}.${serviceDomain}`);
}

/** The environment entries that point at every service process (but `except`, a process's own). */
export function grpcTargets(serviceDomain: string, except?: ProcessName): { name: string; value: string }[] {
  return serviceProcesses.filter((p) => p.name !== except).map((p) => ({ name: grpcTargetVariable(p.name), value: grpcTarget(p, serviceDomain) }));
}
