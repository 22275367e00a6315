/** `npm run build`: compiles every program the image runs into its `dist/main.js`. */
import { buildPrograms } from "./index.js";

const started = performance.now();
try {
  const built = await buildPrograms();
  for (const { entry } of built) process.stdout.write(`built ${entry.compiled}\n`);
  process.stdout.write(`${built.length} programs in ${Math.round(performance.now() - started)} ms\n`);
} catch {
  // esbuild has printed each error with its file and line.
  process.exitCode = 1;
}
