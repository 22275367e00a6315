import type { Caller } from "@inv/platform";

/**
 * Who a change is recorded as made by (created_by, updated_by, a movement's actor): the user id
 * for users, "apikey:<key id>" for API keys, "service:<name>" for a service acting for itself.
 */
export function actorOf(caller: Caller): string {
  const p = caller.principal;
  if (p.kind === "api_key" && p.apiKeyId) return `apikey:${p.apiKeyId}`;
  return p.subject;
}
