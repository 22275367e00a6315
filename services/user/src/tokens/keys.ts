import { randomBytes } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import type { Db } from "@inv/platform";
import type { UserSettings } from "../config.js";
import { deleteRetiredKeys, insertKey, listPublishedKeys, retireKeysBefore, withKeyLock } from "../store/signing-keys.js";

/** The only signature algorithm of access tokens: Ed25519. */
export const ALG = "EdDSA";

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  signFrom: number;
  privateKey: CryptoKey | undefined;
  publicKey: CryptoKey;
}

/** What the key ring needs to know; a clock is injectable so rotation can be tested. */
export interface KeyRingOptions {
  db: Db;
  settings: Pick<UserSettings, "signingKeys" | "signingKeyRotationDays" | "signingKeyPublishMinutes" | "accessTokenMinutes">;
  now?: () => number;
}

// Another replica may have added or retired a key: the ring rereads the table this often, and
// at once (at most every few seconds) when it meets an unknown kid.
const RELOAD_MS = 30_000;
const UNKNOWN_KID_RELOAD_MS = 3_000;
// Beyond a token's lifetime, how long an old key stays published: covers clock skew and the
// replicas that keep signing with it until their next reload.
const RETIRE_MARGIN_MS = 2 * RELOAD_MS + 60_000;

/**
 * The access-token signing keys (docs/decisions/0007-identity-and-access.md, "Signing keys").
 *
 * From AUTH_SIGNING_KEYS: the first key signs and every key is published; rotation is the
 * operator's (add the new key second, wait, move it first, later drop the old one).
 *
 * Otherwise from the `signing_keys` table: a key is published from creation and signs from its
 * `sign_from`; housekeeping adds a successor once the signing key is older than
 * SIGNING_KEY_ROTATION_DAYS, with `sign_from` SIGNING_KEY_PUBLISH_MINUTES ahead so every
 * verifier can fetch it first, and retires a replaced key once the last token it signed has
 * expired.
 */
export class KeyRing {
  readonly #db: Db;
  readonly #settings: KeyRingOptions["settings"];
  readonly #now: () => number;
  #keys: LoadedKey[] = [];
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  constructor(opts: KeyRingOptions) {
    this.#db = opts.db;
    this.#settings = opts.settings;
    this.#now = opts.now ?? Date.now;
  }

  /** The key new tokens are signed with. */
  async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    await this.#fresh();
    let current = this.#signer();
    if (!current) {
      // First start (or every key retired): nobody holds a token yet, so sign at once.
      await withKeyLock(this.#db, (tx) => this.#ensureOne(tx));
      await this.#reload();
      current = this.#signer();
    }
    if (!current?.privateKey) throw new Error("no signing key is available");
    return { kid: current.kid, key: current.privateKey };
  }

  /** The public key a token names in its `kid`, if it is published. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    await this.#fresh();
    let found = this.#keys.find((k) => k.kid === kid);
    if (!found && this.#now() - this.#loadedAt > UNKNOWN_KID_RELOAD_MS) {
      await this.#reload();
      found = this.#keys.find((k) => k.kid === kid);
    }
    return found?.publicKey;
  }

  /** The published public keys, for GetJwks. */
  async jwks(): Promise<JWK[]> {
    await this.#fresh();
    if (this.#keys.length === 0) await this.signingKey();
    return this.#keys.map((k) => k.publicJwk);
  }

  /** Rotation and retirement; run at start and then every HOUSEKEEPING interval. */
  async housekeeping(): Promise<void> {
    if (this.#settings.signingKeys) {
      await this.#reload();
      return;
    }
    const now = this.#now();
    await withKeyLock(this.#db, async (tx) => {
      const keys = await listPublishedKeys(tx, new Date(now));
      if (keys.length === 0) return this.#ensureOne(tx);
      const newest = keys[keys.length - 1]!;
      const signing = keys.filter((k) => k.signFrom.getTime() <= now).at(-1);
      const rotateAfterMs = this.#settings.signingKeyRotationDays * 86_400_000;
      if (newest.signFrom.getTime() <= now && now - newest.signFrom.getTime() >= rotateAfterMs) {
        await insertKey(tx, await newKey(new Date(now + this.#settings.signingKeyPublishMinutes * 60_000)));
      }
      if (signing) {
        // Keys replaced by the current signer sign nothing new: they go once their last token expired.
        const lastTokenExpiry = signing.signFrom.getTime() + this.#settings.accessTokenMinutes * 60_000 + RETIRE_MARGIN_MS;
        await retireKeysBefore(tx, signing.signFrom, new Date(lastTokenExpiry));
      }
      await deleteRetiredKeys(tx, new Date(now));
    });
    await this.#reload();
  }

  /** The key with the latest sign_from that has been reached. */
  #signer(): LoadedKey | undefined {
    const now = this.#now();
    return this.#keys.filter((k) => k.signFrom <= now && k.privateKey).at(-1);
  }

  async #ensureOne(tx: Db): Promise<void> {
    const keys = await listPublishedKeys(tx, new Date(this.#now()));
    if (keys.length === 0) await insertKey(tx, await newKey(new Date(this.#now())));
  }

  async #fresh(): Promise<void> {
    if (this.#now() - this.#loadedAt > RELOAD_MS) await this.#reload();
  }

  /** One reload at a time; concurrent callers wait for it. */
  #reload(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const configured = this.#settings.signingKeys;
    const keys = configured
      ? await Promise.all(configured.map(async (jwk, i) => loaded(jwk, await kidOf(jwk), i === 0 ? 0 : Number.POSITIVE_INFINITY)))
      : await Promise.all((await listPublishedKeys(this.#db, new Date(this.#now()))).map((row) => loaded(row.privateJwk, row.kid, row.signFrom.getTime())));
    // Sorted by sign_from, so the signer is the last reached one. A configured list signs with its first key.
    this.#keys = keys.sort((a, b) => a.signFrom - b.signFrom);
    this.#loadedAt = this.#now();
  }
}

/** A fresh Ed25519 key pair as a row of `signing_keys`; kid is random. */
async function newKey(signFrom: Date) {
  const { privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
  const kid = randomBytes(12).toString("base64url");
  const privateJwk = { ...(await exportJWK(privateKey)), kid };
  return { kid, privateJwk, publicJwk: publicPart(privateJwk, kid), signFrom };
}

const kidOf = async (jwk: JWK) => jwk.kid ?? (await calculateJwkThumbprint(jwk));

/** The public half of a private OKP JWK, as the JWKS lists it. */
function publicPart(jwk: JWK, kid: string): JWK {
  return { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, kid, use: "sig", alg: ALG };
}

async function loaded(privateJwk: JWK, kid: string, signFrom: number): Promise<LoadedKey> {
  const publicJwk = publicPart(privateJwk, kid);
  return {
    kid,
    publicJwk,
    signFrom,
    privateKey: (await importJWK({ ...privateJwk, alg: ALG }, ALG)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, ALG)) as CryptoKey,
  };
}
