/**
 * Ahead-of-time compilation of every program the image runs. Each entry point becomes one ES
 * module in `dist/` beside its sources (`services/warehouse/src/main.ts` →
 * `services/warehouse/dist/main.js`), with the repository's own code (the `@inv/*` workspaces and
 * the generated `gen/` code) bundled in and every npm package left to `node_modules`. A process
 * then starts on plain JavaScript: no TypeScript loader, no transpiling at start, and none of the
 * per-closure helpers the loader's transform adds to keep function names.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { clusterProgram, edgeProgram, migrateProgram, type ProgramEntry, processes, serviceProgram } from "@inv/service-catalog";
import { build, type Metafile, type Plugin } from "esbuild";

/** The repository root (this file is packages/build/src/index.ts). */
export const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Every program the image runs: each service process of the catalog, the edge, the cluster and the migration task. */
export const programs: readonly ProgramEntry[] = [...processes.map(serviceProgram), edgeProgram, clusterProgram, migrateProgram];

/** The repository's own packages are compiled in; everything else is imported from node_modules at run time. */
const OWN_PACKAGE = /^@inv\//;

export interface CompiledProgram {
  readonly entry: ProgramEntry;
  /** Every npm package the compiled module imports at run time (node: builtins aside). */
  readonly packages: readonly string[];
}

/**
 * A module that finds files next to its source (`new URL("../drizzle", import.meta.url)`: a
 * service's migrations) would look beside the compiled file instead. Each source module of the
 * repository gets, in place of `import.meta.url`, its own source URL computed from the compiled
 * file's, so such lookups land where they did before compiling, on any machine the tree is
 * copied to as a whole (the image keeps the repository's layout).
 */
function sourceLocations(outFile: string): Plugin {
  const outDir = dirname(outFile);
  return {
    name: "source-import-meta-url",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.split(sep).includes("node_modules")) return undefined;
        const text = readFileSync(args.path, "utf8");
        if (!text.includes("import.meta.url")) return { contents: text, loader: "ts" };
        const fromOutput = relative(outDir, args.path).split(sep).join("/");
        return { contents: text.replace(/\bimport\.meta\.url\b/g, `new URL(${JSON.stringify(fromOutput)}, import.meta.url).href`), loader: "ts" };
      });
    },
  };
}

/** Bare imports of npm packages stay imports; the repository's own are bundled. */
const npmPackagesExternal: Plugin = {
  name: "npm-packages-external",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (OWN_PACKAGE.test(args.path) || isAbsolute(args.path)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** The package an import specifier names: `pino`, `@grpc/grpc-js` from `@grpc/grpc-js/build/x`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function packagesImported(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const i of output.imports) {
      if (i.external && !i.path.startsWith("node:")) found.add(packageOf(i.path));
    }
  }
  return [...found].sort();
}

export interface BuildOptions {
  /** Write the modules (and their source maps) to disk; otherwise only report what they import. */
  readonly write?: boolean;
  readonly only?: readonly ProgramEntry[];
}

/**
 * Compiles each program on its own (one esbuild run per entry, run together), since the
 * `import.meta.url` rewrite depends on where the compiled file lands. Node 20 is the oldest
 * runtime the project supports (the image runs 22).
 */
export async function buildPrograms(opts: BuildOptions = {}): Promise<CompiledProgram[]> {
  return Promise.all(
    (opts.only ?? programs).map(async (entry) => {
      const outfile = join(repositoryRoot, entry.compiled);
      const result = await build({
        absWorkingDir: repositoryRoot,
        entryPoints: [join(repositoryRoot, entry.source)],
        outfile,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        sourcemap: "linked",
        sourcesContent: false,
        keepNames: false,
        legalComments: "none",
        metafile: true,
        write: opts.write ?? true,
        logLevel: "warning",
        plugins: [npmPackagesExternal, sourceLocations(outfile)],
      });
      return { entry, packages: packagesImported(result.metafile) };
    }),
  );
}
