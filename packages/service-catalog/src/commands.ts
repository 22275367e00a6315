import { edge, type ProcessDeclaration } from "./catalog.js";

/**
 * How the one image runs each process (compose `command`, ECS container command) and how its
 * container is probed. The probes are curl (in the image): a service over grpc.health.v1 by
 * scripts/grpc-health.sh, the edge at its liveness path. A probe runs every 15 s in every task, so
 * it must be cheap: about 10 ms and 11 MB, where a Node script cost up to 2 s of CPU and 180 MB.
 */
const tsx = ["node", "--import", "tsx"] as const;

export const serviceCommand = (process: ProcessDeclaration): readonly string[] => [...tsx, `services/${process.name}/src/main.ts`];

export const serviceHealthCheck = (process: ProcessDeclaration): readonly string[] => ["sh", "scripts/grpc-health.sh", `127.0.0.1:${process.grpcPort}`];

export const edgeCommand: readonly string[] = [...tsx, "edge/src/main.ts"];

/**
 * The edge's container is alive when it answers its liveness path. Not its readiness: that says
 * whether every upstream answers, and one upstream down must not make every edge be replaced.
 */
export const edgeHealthCheck: readonly string[] = [
  "curl",
  "-fsS",
  "--max-time",
  "2",
  "-o",
  "/dev/null",
  `http://127.0.0.1:${edge.httpPort}${edge.livenessPath}`,
];

/** `npm start` and the image's default command: every process in one. */
export const clusterCommand: readonly string[] = [...tsx, "apps/cluster/src/main.ts"];
