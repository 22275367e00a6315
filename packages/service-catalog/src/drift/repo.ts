import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the drift tests read the files that cannot import the catalog. */
export const root = fileURLToPath(new URL("../../../../", import.meta.url));

export const readText = (path: string) => readFileSync(join(root, path), "utf8");

export interface PackageJson {
  name: string;
  workspaces?: string[];
  scripts?: Record<string, string>;
}

export const readPackage = (dir: string): PackageJson => JSON.parse(readText(join(dir, "package.json")));

/** The folders directly under a folder of the repository. */
export const foldersIn = (dir: string) =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

/** Every workspace folder, relative to the root, from the root package.json's globs ("dir/*" or "dir"). */
export function workspaceFolders(): string[] {
  return (readPackage(".").workspaces ?? []).flatMap((glob) =>
    glob.endsWith("/*")
      ? foldersIn(glob.slice(0, -2))
          .map((name) => `${glob.slice(0, -2)}/${name}`)
          .filter((dir) => existsSync(join(root, dir, "package.json")))
      : [glob],
  );
}

/** Every .ts file under a folder of the repository, node_modules aside, relative to the root. */
export function typeScriptFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(".ts")) found.push(relative(root, full));
    }
  };
  walk(join(root, dir));
  return found;
}
