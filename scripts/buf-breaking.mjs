// Checks proto/ for breaking changes (buf FILE rules) against a git ref: `npm run breaking -- <ref>`
// (default main). The ref's tree is unpacked into a temporary folder beside this checkout's
// .third_party/ protos, because third-party files are fetched at generate time, not committed.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ref = process.argv[2] ?? "main";
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: "inherit", ...opts });

if (!existsSync(".third_party")) run("node", ["scripts/fetch-protos.mjs"]);
const against = mkdtempSync(join(tmpdir(), "buf-against-"));
try {
  const archive = execFileSync("git", ["archive", "--format=tar", ref, "proto", "buf.yaml"]);
  execFileSync("tar", ["-x", "-C", against], { input: archive });
  cpSync(".third_party", join(against, ".third_party"), { recursive: true });
  run("npx", ["buf", "breaking", "--against", against]);
  console.log(`buf breaking: no breaking changes against ${ref}`);
} finally {
  rmSync(against, { recursive: true, force: true });
}
