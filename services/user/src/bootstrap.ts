import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { ConfigError, InvalidArgument, checkFields, inTransaction, type Db } from "@inv/platform";
import { uuidv7 } from "uuidv7";
import type { UserSettings } from "./config.js";
import { ADMIN_ROLE } from "./domain/built-in-roles.js";
import { checkPassword } from "./domain/passwords.js";
import { checkEmail, checkUsername } from "./domain/rules.js";
import { insertAuditEvents } from "./store/audit.js";
import { anyLiveHolder, findLiveUserByLogin, insertUser, setRoles } from "./store/users.js";
import type { PasswordHasher } from "./tokens/passwords.js";

export interface BootstrapDeps {
  db: Db;
  passwords: PasswordHasher;
  settings: Pick<UserSettings, "admin">;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Where a generated password is shown, once; stdout by default, never the log. */
  print?: (text: string) => void;
}

/**
 * Makes sure someone can administer a fresh installation: when no live, active user holds the
 * admin role, creates one: ADMIN_USERNAME (default "admin") with ADMIN_PASSWORD (a weak one
 * stops the start) or, when that is unset, a generated password printed once to stdout (never
 * to the log), for the operator to change with ChangeMyPassword.
 * Replicas starting together take an advisory lock, so one of them creates the user.
 */
export async function bootstrapAdmin({ db, passwords, settings, log, print = (t) => process.stdout.write(t) }: BootstrapDeps): Promise<void> {
  const given = settings.admin;
  const generated = !given.password;
  const account = adminAccount(given);
  const passwordHash = await passwords.hash(account.password);
  const created = await inTransaction(db, async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('user:bootstrap'))`);
    if (await anyLiveHolder(tx, ADMIN_ROLE)) return undefined;
    if (await findLiveUserByLogin(tx, account.username)) {
      log.warn({ username: account.username }, "no active administrator exists, but the username is taken; set ADMIN_USERNAME to another name");
      return undefined;
    }
    const row = await insertUser(tx, {
      username: account.username,
      email: account.email,
      displayName: "Administrator",
      active: true,
      passwordHash,
      createdBy: null,
    });
    await setRoles(tx, row.id, [ADMIN_ROLE]);
    await insertAuditEvents(tx, [
      {
        id: uuidv7(),
        occurTime: new Date(),
        actorKind: "service",
        actorId: "service:user",
        actorName: "user",
        service: "user",
        method: "bootstrap",
        resourceType: "User",
        resourceId: row.id,
        outcome: "success",
        statusCode: "OK",
        details: { username: row.username, roles: [ADMIN_ROLE], printedOnce: generated },
      },
    ]);
    return row;
  });
  if (!created) return;
  log.info({ username: created.username, userId: created.id }, "administrator created");
  if (generated) print(passwordBox(created.username, account.password));
}

/** The account to create, checked like any other; a bad ADMIN_* setting stops the start. */
function adminAccount(given: UserSettings["admin"]): { username: string; email: string; password: string } {
  try {
    return checkFields((v) => {
      const username = checkUsername(v, "ADMIN_USERNAME", given.username ?? "admin");
      const email = checkEmail(v, "ADMIN_EMAIL", given.email ?? `${username}@localhost`);
      const password = given.password ? checkPassword(v, "ADMIN_PASSWORD", given.password, username) : strongPassword(username);
      return { username, email, password };
    });
  } catch (err) {
    if (err instanceof InvalidArgument) throw new ConfigError(`cannot create the first administrator: ${err.message}`);
    throw err;
  }
}

/**
 * 24 random characters; drawn again in the rare case the draw breaks a password rule or begins with "-",
 * which a shell tool given the password as an argument would read as an option.
 */
export function strongPassword(username: string): string {
  for (;;) {
    const candidate = randomBytes(18).toString("base64url");
    if (candidate.startsWith("-")) continue;
    try {
      checkFields((v) => checkPassword(v, "password", candidate, username));
      return candidate;
    } catch {
      // draw again
    }
  }
}

function passwordBox(username: string, password: string): string {
  const lines = [
    "admin user created",
    "",
    `  username  ${username}`,
    `  password  ${password}`,
    "",
    "Shown only this once. Sign in and change it with",
    "ChangeMyPassword (POST /v1/me:changePassword).",
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const bar = "─".repeat(width + 2);
  return `\n┌${bar}┐\n${lines.map((l) => `│ ${l.padEnd(width)} │`).join("\n")}\n└${bar}┘\n\n`;
}
