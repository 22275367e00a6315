import { edge, type ProcessDeclaration } from "./catalog.js";

/**
 * How the one image runs each process (compose `command`, ECS container command) and how its
 * container is probed. Services are probed over grpc.health.v1 by a script, because the image
 * has no grpc_health_probe binary.
 */
const tsx = ["node", "--import", "tsx"] as const;

export const serviceCommand = (process: ProcessDeclaration): readonly string[] => [...tsx, `services/${process.name}/src/main.ts`];

export const serviceHealthCheck = (process: ProcessDeclaration): readonly string[] => [...tsx, "scripts/grpc-health.ts", `127.0.0.1:${process.grpcPort}`];

export const edgeCommand: readonly string[] = [...tsx, "edge/src/main.ts"];

export const edgeHealthCheck: readonly string[] = [
  "node",
  "-e",
  `fetch('http://127.0.0.1:${edge.httpPort}${edge.readinessPath}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
];

/** `npm start` and the image's default command: every process in one. */
export const clusterCommand: readonly string[] = [...tsx, "apps/cluster/src/main.ts"];
