import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/**
 * The client's address, as the rate limits and the services (x-client-ip) see it. With no proxy
 * in front (`trustedHops` 0) it is the socket's peer, and X-Forwarded-For is ignored: anyone can
 * write it. Behind N proxies that each append the address they saw, it is the N-th entry from
 * the right of X-Forwarded-For (the leftmost when there are fewer), as Express's `trust proxy`
 * counts them; entries further left were written by the client and prove nothing.
 */
export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = plain(req.socket.remoteAddress ?? "");
  if (trustedHops <= 0) return peer;
  const forwarded = req.headers["x-forwarded-for"]; // node joins repeated ones with ", "
  if (typeof forwarded !== "string") return peer;
  const hops = forwarded.split(",");
  const candidate = plain(hops[Math.max(hops.length - trustedHops, 0)]!.trim());
  // A proxy writes an address; anything else would only be a way into the metadata and the keys.
  return isIP(candidate) ? candidate : peer;
}

/** "::ffff:10.0.0.1" (an IPv4 client on a dual-stack socket) → "10.0.0.1", so one client has one bucket. */
const plain = (address: string) => (address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address);

export const MAX_USER_AGENT_CHARS = 256;

/**
 * The user agent as forwarded upstream: at most 256 characters, printable ASCII only (gRPC
 * metadata refuses anything else, and a refused call would be a 500).
 */
export function forwardedUserAgent(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined;
  const short = userAgent.length > MAX_USER_AGENT_CHARS ? userAgent.slice(0, MAX_USER_AGENT_CHARS) : userAgent;
  return PRINTABLE.test(short) ? short : short.replace(NOT_PRINTABLE, "?");
}

const PRINTABLE = /^[ -~]*$/;
const NOT_PRINTABLE = /[^ -~]/g;
