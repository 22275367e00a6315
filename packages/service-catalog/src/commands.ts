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

/** The memory each process is given unless a deployment says otherwise: one process per 512 MiB task. */
export const defaultProcessMemoryMiB = 512;

/** Which heap settings a process gets: the edge's differ (see heapFlags). */
export type HeapRole = "service" | "edge";

/**
 * V8's heap sized for the memory a process is given rather than the host's. Left to itself V8 sizes
 * its limits from the memory it sees (a container's limit is not always among it), lets the old
 * generation fill with garbage far past the live heap before a full collection, and keeps 16 MiB
 * semi-spaces. Measured after the bench's load: the edge at 167–186 MiB RSS and the warehouse
 * service at 162–239 MiB, with 25–29 MiB of live heap. Half the memory for the old generation
 * (the rest is code, buffers and the young generation) and 4 MiB semi-spaces bring every process to
 * 95–118 MiB after the same load (bench/README.md, Memory).
 *
 * The edge gets one more flag. With an old generation this small V8 counts a process as a small
 * device and lets the old generation grow only about 1.3× past its live size before the next full
 * collection. Under load the edge ran one every ~170 ms, each marking the 21–25 MiB of live objects
 * it holds (the descriptors and routes of every public service), and garbage collection took a
 * third of its CPU. Letting its old generation grow to twice its live size halves how often that
 * happens, for 20–30 MiB more at the peak (bench/README.md, Round 5). The services stay as they
 * are: the same flag took the warehouse service past 150 MiB.
 */
export const heapFlags = (memoryMiB: number, role: HeapRole = "service"): readonly string[] => [
  `--max-old-space-size=${Math.floor(memoryMiB / 2)}`,
  "--max-semi-space-size=4",
  ...(role === "edge" ? ["--heap-growing-percent=100"] : []),
];

/** How a long-running process is started, given the memory it has (its task's, in a deployment). */
const run = (entry: ProgramEntry, memoryMiB = defaultProcessMemoryMiB, role: HeapRole = "service"): readonly string[] => [
  ...node,
  ...heapFlags(memoryMiB, role),
  entry.compiled,
];

export const serviceCommand = (process: ProcessDeclaration, memoryMiB?: number): readonly string[] => run(serviceProgram(process), memoryMiB);

export const serviceHealthCheck = (process: ProcessDeclaration): readonly string[] => ["sh", "scripts/grpc-health.sh", `127.0.0.1:${process.grpcPort}`];

export const edgeCommand = (memoryMiB?: number): readonly string[] => run(edgeProgram, memoryMiB, "edge");

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

/** Every process in one (the image's default command, `npm start`): V8 sizes its heap from what it sees. */
export const clusterCommand: readonly string[] = [...node, clusterProgram.compiled];

export const migrateCommand = (memoryMiB?: number): readonly string[] => run(migrateProgram, memoryMiB);
