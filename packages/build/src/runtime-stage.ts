/**
 * The Dockerfile's runtime stage, read as data: what it copies from the build stage. The tests hold
 * it to the program list (image.test.ts) and run the programs from a tree holding only those files
 * (runtime-stage.test.ts), so the image is checked as far as a machine without a Docker engine can.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { repositoryRoot } from "./index.js";

/** The Dockerfile with its continued lines joined. */
export const dockerfile = readFileSync(join(repositoryRoot, "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");

/** The last stage: what the image runs. */
const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));

/** Every path the runtime stage copies from the build stage, relative to /app (the repository root). */
export const runtimeCopies: readonly string[] = [...runtime.matchAll(/^COPY --from=build (.+) \S+$/gm)].flatMap((m) =>
  m[1]!
    .split(/\s+/)
    .filter((arg) => !arg.startsWith("--"))
    .map((path) => path.replace(/^\/app\//, "")),
);

/** The image's default command, as its CMD says. */
export const runtimeCommand: readonly string[] = JSON.parse(/^CMD (.+)$/m.exec(runtime)?.[1] ?? "null");

/**
 * Lays out in `dest` what the runtime stage would hold, from this checkout once it is built:
 * every copied path but node_modules, copied; node_modules as links to this checkout's packages,
 * and the repository's own workspace links as they are (relative: in the image they lead to the
 * folders it copies, or nowhere). A program that read a file the stage does not copy, or imported
 * one of the repository's packages at run time instead of carrying it compiled in, fails from this
 * tree.
 * (The dev dependencies are still linked: that the programs import only production dependencies
 * is build.test.ts's to check.)
 */
export function assembleRuntimeTree(dest: string): void {
  for (const path of runtimeCopies) {
    if (path === "node_modules") continue;
    mkdirSync(dirname(join(dest, path)), { recursive: true });
    cpSync(join(repositoryRoot, path), join(dest, path), { recursive: true });
  }
  const modules = join(repositoryRoot, "node_modules");
  mkdirSync(join(dest, "node_modules", "@inv"), { recursive: true });
  for (const entry of readdirSync(modules)) {
    if (entry === "@inv" || entry === ".bin") continue;
    symlinkSync(join(modules, entry), join(dest, "node_modules", entry));
  }
  // The workspace links as npm made them (relative, `../../gen`): inside the tree they lead where
  // the image's do, to a folder it copies (gen, for the descriptor set) or to nothing.
  for (const entry of readdirSync(join(modules, "@inv"))) {
    symlinkSync(readlinkSync(join(modules, "@inv", entry)), join(dest, "node_modules", "@inv", entry));
  }
}
