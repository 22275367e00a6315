import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root: the build context of its one Dockerfile. */
export const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));

interface IgnoreRule {
  readonly pattern: RegExp;
  /** `!pattern`: put back what an earlier rule left out. */
  readonly negated: boolean;
  /** `pattern/`: only directories (and so what is under them). */
  readonly directoriesOnly: boolean;
}

/**
 * The rules of a `.dockerignore`, read the way Docker reads them: one pattern a line, `#` comments, `!` exceptions,
 * `*` and `?` within a path segment, `**` across segments, a pattern that names a directory leaving out all under it.
 */
export function dockerignoreRules(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const negated = line.startsWith("!");
      let pattern = (negated ? line.slice(1) : line).trim().replace(/^(\.\/|\/)+/, "");
      const directoriesOnly = pattern.endsWith("/");
      pattern = pattern.replace(/\/+$/, "");
      return { pattern: globToRegExp(pattern), negated, directoriesOnly };
    });
}

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (glob.startsWith("**/", i)) {
      source += "(?:.*/)?";
      i += 2;
    } else if (glob.startsWith("**", i)) {
      source += ".*";
      i += 1;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += `[${glob.slice(i + 1, end).replace(/^!/, "^")}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Whether Docker leaves `path` (relative, `/`-separated) out of the build context. */
export function isIgnored(path: string, isDirectory: boolean, rules: readonly IgnoreRule[]): boolean {
  const segments = path.split("/");
  let ignored = false;
  for (const rule of rules) {
    // A rule matches the path itself or any directory above it.
    const matches = segments.some((_, i) => {
      const prefix = segments.slice(0, i + 1).join("/");
      const isLast = i === segments.length - 1;
      return (!rule.directoriesOnly || !isLast || isDirectory) && rule.pattern.test(prefix);
    });
    if (matches) ignored = !rule.negated;
  }
  return ignored;
}

/**
 * A SHA-256 over every file Docker would send as the build context of `root` (its `.dockerignore` applied), with
 * `extra` (e.g. the target platform) mixed in: the same sources give the same digest on any machine. Used as the
 * image's tag, so a tag names exactly one content (the repository's tags are immutable) and an unchanged tree
 * builds nothing new. Errs towards hashing more than Docker sends (a different digest only costs a cached build),
 * never less (which would push changed content under an existing tag, and ECR would refuse it).
 */
export function buildContextDigest(root: string, extra: readonly string[] = []): string {
  const ignoreFile = join(root, ".dockerignore");
  const rules = existsSync(ignoreFile) ? dockerignoreRules(readFileSync(ignoreFile, "utf8")) : [];
  const hasExceptions = rules.some((r) => r.negated);
  const hash = createHash("sha256");
  for (const value of extra) hash.update(`extra\0${value}\0`);

  const walk = (relativeDir: string) => {
    const entries = readdirSync(join(root, relativeDir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
      const absolute = join(root, path);
      if (entry.isDirectory()) {
        // Without exceptions nothing under an ignored directory can come back, so its tree is not read at all.
        if (!hasExceptions && isIgnored(path, true, rules)) continue;
        walk(path);
        continue;
      }
      if (isIgnored(path, false, rules)) continue;
      if (entry.isSymbolicLink()) {
        hash.update(`link\0${path}\0${readlinkSync(absolute)}\0`);
      } else if (entry.isFile()) {
        const executable = (lstatSync(absolute).mode & 0o111) !== 0;
        const content = createHash("sha256").update(readFileSync(absolute)).digest("hex");
        hash.update(`file\0${path}\0${executable ? "x" : "-"}\0${content}\0`);
      }
    }
  };
  walk("");
  return hash.digest("hex");
}
