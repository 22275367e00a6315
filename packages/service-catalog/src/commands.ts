import { edge, type ProcessDeclaration } from "./catalog.js";

/**
 * How the one image runs each process (compose `command`, ECS container command) and how its
 * container is probed. Every process runs JavaScript compiled ahead of time (`npm run build`,
 * scripts/build.ts: one ES module per entry, beside its sources in `dist/`), so nothing is
 * transpiled at start and no TypeScript loader sits in the process. `--enable-source-maps` makes
 * logged stack traces point at the TypeScript. The probes are curl (in the image): a service over
 * grpc.health.v1 by scripts/grpc-health.sh, the edge at its liveness path. A probe runs every 15 s
 * in every task, so it must be cheap: about 10 ms and 11 MB, where a Node script cost up to 2 s of
 * CPU and 180 MB.
 */
const node = ["node", "--enable-source-maps"] as const;

/** The entry point (TypeScript) of each program the image runs, and where its build puts it. */
export interface ProgramEntry {
  readonly source: string;
  readonly compiled: string;
}

const program = (dir: string): ProgramEntry => ({ source: `${dir}/src/main.ts`, compiled: `${dir}/dist/main.js` });

export const serviceProgram = (process: ProcessDeclaration): ProgramEntry => program(`services/${process.name}`);
export const edgeProgram: ProgramEntry = program("edge");
/** `npm start` and the image's default command: every process in one. */
export const clusterProgram: ProgramEntry = program("apps/cluster");
/** The one-off task that creates each service's database role and migrates its schema before a rollout. */
export const migrateProgram: ProgramEntry = program("apps/migrate");

const run = (entry: ProgramEntry): readonly string[] => [...node, entry.compiled];

export const serviceCommand = (process: ProcessDeclaration): readonly string[] => run(serviceProgram(process));

export const serviceHealthCheck = (process: ProcessDeclaration): readonly string[] => ["sh", "scripts/grpc-health.sh", `127.0.0.1:${process.grpcPort}`];

export const edgeCommand: readonly string[] = run(edgeProgram);

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

export const clusterCommand: readonly string[] = run(clusterProgram);

export const migrateCommand: readonly string[] = run(migrateProgram);
