import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const awsRoot = dirname(createRequire(import.meta.url).resolve("@pulumi/aws/package.json"));

/**
 * Whether an AWS resource type takes `tags`, read from the SDK's own declarations (`<Type>Args` in
 * `@pulumi/aws/<module>/<file>.d.ts`), so tests judge the program's tagging by a source it does not use.
 * Throws when the declaration cannot be found, so a changed SDK layout fails loudly instead of passing.
 */
export function acceptsTags(type: string): boolean {
  const token = /^aws:([^/]+)\/([^:]+):(\w+)$/.exec(type);
  if (!token) return false; // not an AWS resource: components, random passwords
  const [, module, file, className] = token as unknown as [string, string, string, string];
  const declarations = readFileSync(join(awsRoot, module, `${file}.d.ts`), "utf8");
  const args = new RegExp(`export interface ${className}Args \\{([\\s\\S]*?)\\n\\}`).exec(declarations);
  if (!args?.[1]) throw new Error(`no ${className}Args in @pulumi/aws/${module}/${file}.d.ts`);
  return /\n {4}tags\?:/.test(args[1]);
}
