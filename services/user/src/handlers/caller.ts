import { FailedPrecondition, Unauthenticated, type CallContext, type Principal } from "@inv/platform";

/** The user a call acts for: the signed-in user, or an API key's owner; null for services and anonymous callers. */
export function actingUserId(ctx: CallContext): string | null {
  const p = ctx.caller.principal;
  return p.kind === "user" || p.kind === "api_key" ? p.subject : null;
}

/**
 * The caller's sign-in session, for the calls that act on it (Logout, ChangeMyPassword).
 * An API key has no session to end: revoking the key is how it stops.
 */
export function requireSession(ctx: CallContext, what: string): Principal & { sessionId: string } {
  const p = ctx.caller.principal;
  if (p.kind === "user" && p.sessionId) return p as Principal & { sessionId: string };
  if (p.kind === "anonymous") throw new Unauthenticated(`${what} needs a signed-in user`, [], "UNAUTHENTICATED");
  throw new FailedPrecondition(
    p.kind === "api_key" ? `${what} needs a signed-in user; an API key has no session (revoke the key instead)` : `${what} needs a signed-in user`,
    [],
    "NOT_A_USER_SESSION",
  );
}

/** The caller's user id, refusing callers that are not a user or an API key. */
export function requireUser(ctx: CallContext, what: string): string {
  const id = actingUserId(ctx);
  if (id) return id;
  if (ctx.caller.principal.kind === "anonymous") throw new Unauthenticated(`${what} needs credentials`, [], "UNAUTHENTICATED");
  throw new FailedPrecondition(`${what} needs a user or an API key, not a service identity`, [], "NOT_A_USER");
}
