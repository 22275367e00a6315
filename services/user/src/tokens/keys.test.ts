import { fileURLToPath } from "node:url";
import { AccessTokenVerifier, openDatabase, type Database } from "@inv/platform";
import { createScratchDatabase, type ScratchDatabase } from "@inv/platform/testing";
import { decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signingKeys } from "../store/schema.js";
import { signAccessToken } from "./access-tokens.js";
import { KeyRing } from "./keys.js";

let scratch: ScratchDatabase;
let database: Database;
beforeAll(async () => {
  scratch = await createScratchDatabase("user_keys");
  database = await openDatabase({ schema: "user", migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), url: scratch.url });
});
afterAll(async () => {
  await database?.close();
  await scratch?.drop();
});
beforeEach(async () => {
  await database.db.delete(signingKeys);
});

const DAY = 86_400_000;
const MINUTE = 60_000;
const settings = { signingKeys: undefined, signingKeyRotationDays: 30, signingKeyPublishMinutes: 10, accessTokenMinutes: 15 };

/** A key ring on a clock the test moves. */
function ringAt(start: number) {
  const clock = { now: start };
  const ring = () => new KeyRing({ db: database.db, settings, now: () => clock.now });
  return { clock, ring };
}
const kids = async (ring: KeyRing) => (await ring.jwks()).map((k) => k.kid);
/** The token's claims as a verifier in any process sees them: against the ring's published keys, by the platform's verifier. */
const verify = (ring: KeyRing, token: string) => new AccessTokenVerifier({ jwks: async () => ({ keys: await ring.jwks() }) }).verify(token);
const signerOf = async (ring: KeyRing, now: number) => decodeProtectedHeader((await signAccessToken(ring, { userId: "u", sessionId: "s" }, 15, now)).token).kid;

describe("stored signing keys", () => {
  it("the first use makes one key, which signs at once and is published; another replica finds the same key", async () => {
    const { ring } = ringAt(Date.now());
    const a = ring();
    const kid = await signerOf(a, Date.now());
    expect(await kids(a)).toEqual([kid]);
    expect(await signerOf(ring(), Date.now())).toBe(kid);
    const [row] = await database.db.select().from(signingKeys);
    expect(row!.publicJwk).toEqual({ kty: "OKP", crv: "Ed25519", x: row!.privateJwk.x, kid, use: "sig", alg: "EdDSA" });
  });

  it("rotation publishes the new key first, signs with it after the publish delay, and drops the old one after its last token expired", async () => {
    const start = Date.now();
    const { clock, ring } = ringAt(start);
    const first = ring();
    const oldKid = await signerOf(first, clock.now);
    const oldToken = (await signAccessToken(first, { userId: "u", sessionId: "s" }, 15, clock.now)).token;

    // Young key: housekeeping changes nothing.
    clock.now = start + 29 * DAY;
    await first.housekeeping();
    expect(await kids(first)).toEqual([oldKid]);

    // Old key: a successor is published at once, but does not sign yet.
    clock.now = start + 30 * DAY;
    const replica = ring();
    await replica.housekeeping();
    const both = await kids(replica);
    expect(both).toHaveLength(2);
    const newKid = both.find((k) => k !== oldKid)!;
    expect(await signerOf(replica, clock.now)).toBe(oldKid);
    await replica.housekeeping(); // no second successor
    expect(await kids(replica)).toHaveLength(2);

    // After the publish delay the new key signs; the old one stays published while its tokens may live.
    clock.now = start + 30 * DAY + 10 * MINUTE;
    await replica.housekeeping();
    expect(await signerOf(replica, clock.now)).toBe(newKid);
    expect(await kids(replica)).toEqual([oldKid, newKid]);
    expect(await verify(replica, oldToken)).toMatchObject({ sub: "u", sid: "s" }); // the token itself is real-time fresh

    // Once every token the old key signed has expired, it goes.
    clock.now = start + 30 * DAY + 10 * MINUTE + 15 * MINUTE + 3 * MINUTE;
    await replica.housekeeping();
    expect(await kids(ring())).toEqual([newKid]);
    expect(await verify(ring(), oldToken)).toBeUndefined();
  });
});

describe("configured signing keys (AUTH_SIGNING_KEYS)", () => {
  it("the first key signs and every key is published; a key without kid gets its thumbprint; nothing is stored", async () => {
    const jwk = async (kid?: string) => ({ ...(await exportJWK((await generateKeyPair("EdDSA", { extractable: true })).privateKey)), ...(kid ? { kid } : {}) });
    const keys = [await jwk("next"), await jwk()];
    const ring = new KeyRing({ db: database.db, settings: { ...settings, signingKeys: keys } });
    await ring.housekeeping();
    const published = await kids(ring);
    expect(published[0]).toBe("next");
    expect(published[1]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await signerOf(ring, Date.now())).toBe("next");
    expect(await database.db.select().from(signingKeys)).toEqual([]);
  });
});
