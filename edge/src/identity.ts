import { API_KEY_PREFIX, bearerToken, type AccessTokenVerifier } from "@inv/platform";
import { apiKeyIdentity, type Identify, type Identity } from "./rate-limit.js";

const NOBODY: Identity = Object.freeze({});
const INVALID: Identity = Object.freeze({ invalid: true });

/**
 * Names the caller for the per-user and per-API-key rate limits. An access token counts for its
 * user only once its signature has been checked (a forged `sub` must not drain someone else's
 * bucket); a token seen before is answered at once, from the verifier's cache. A token that
 * fails the check is marked invalid, so the edge can refuse it before reading the request; one
 * that cannot be checked (the keys are out of reach) is left to the services. Whether a valid
 * caller may do what they ask is the services' decision, not the edge's.
 */
export function verifiedIdentity(tokens: AccessTokenVerifier): Identify {
  const keys = apiKeyIdentity();
  return (credentials) => {
    const bearer = credentials.authorization === undefined ? undefined : bearerToken(credentials.authorization);
    if (credentials.apiKey !== undefined || bearer?.startsWith(API_KEY_PREFIX)) return keys(credentials);
    if (bearer === undefined) return credentials.authorization === undefined ? NOBODY : INVALID; // not "Bearer <token>"
    const known = tokens.known(bearer);
    if (known) return { user: known.sub };
    return tokens.verify(bearer).then(
      (claims) => (claims ? { user: claims.sub } : INVALID),
      () => NOBODY, // the user service's keys are out of reach: the address limit still applies
    );
  };
}
