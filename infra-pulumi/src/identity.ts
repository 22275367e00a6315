import { createHash, createPrivateKey } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { storeSecret, type StoredSecret } from "./secrets.js";

export interface IdentitySecretsArgs {
  /** The first admin's username: the generated password must not contain it. */
  adminUsername: string;
  /**
   * Names of the access-token signing keys the stack generates, in `AUTH_SIGNING_KEYS` order: the first
   * signs, all are published. A key is generated once per name and kept in the state; renaming one replaces it.
   */
  signingKeys: readonly string[];
  /** Production secrets survive a `pulumi destroy` by mistake for 30 days (recovery window). */
  keepData: boolean;
}

/** A private Ed25519 JWK as `AUTH_SIGNING_KEYS` lists them. */
export interface SigningJwk {
  kty: "OKP";
  crv: "Ed25519";
  /** The private key (the 32-byte seed), base64url. */
  d: string;
  /** The public key, base64url. */
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

/** PKCS#8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const ed25519Pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * The private JWK of the Ed25519 key whose seed is `seedBase64` (32 bytes). Its `kid` is the key's RFC 7638
 * thumbprint, the one the user service would compute itself, so it names the key whatever lists it.
 */
export function ed25519PrivateJwk(seedBase64: string): SigningJwk {
  const seed = Buffer.from(seedBase64, "base64");
  if (seed.length !== 32) throw new Error(`an Ed25519 seed is 32 bytes, not ${seed.length}`);
  const jwk = createPrivateKey({ key: Buffer.concat([ed25519Pkcs8Prefix, seed]), format: "der", type: "pkcs8" }).export({ format: "jwk" });
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) throw new Error("Node did not export an Ed25519 JWK");
  const kid = createHash("sha256")
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
    .digest("base64url");
  return { kty: "OKP", crv: "Ed25519", d: jwk.d, x: jwk.x, kid, alg: "EdDSA", use: "sig" };
}

/**
 * The user service refuses a password that contains the username (case-insensitively, for usernames of 3 or more
 * characters), which a random one does now and then for a short name. Each occurrence loses a character to "~",
 * which no username contains, so no new occurrence can appear.
 */
export function withoutUsername(password: string, username: string): string {
  const name = username.toLowerCase();
  if (name.length < 3 || name.includes("~")) return password;
  let result = password;
  for (let at = result.toLowerCase().indexOf(name); at >= 0; at = result.toLowerCase().indexOf(name)) {
    result = `${result.slice(0, at)}~${result.slice(at + 1)}`;
  }
  return result;
}

/**
 * The secrets of the identity and access layer (docs/decisions/0007-identity-and-access.md), generated here
 * and stored in Secrets Manager like the connection URLs:
 *
 * - `SERVICE_SECRET`, the cluster secret that signs service identities: every service and the edge;
 * - `ADMIN_PASSWORD`, the first admin's password: the user service only;
 * - `AUTH_SIGNING_KEYS`, the access-token signing keys as a JSON array of private JWKs: the user service only.
 */
export class IdentitySecrets extends pulumi.ComponentResource {
  readonly serviceSecret: StoredSecret;
  readonly adminPassword: StoredSecret;
  readonly signingKeys: StoredSecret;

  constructor(name: string, args: IdentitySecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:IdentitySecrets", name, {}, opts);
    const child = { parent: this };
    if (args.signingKeys.length === 0) throw new Error("at least one signing key is needed");

    // Letters and digits only: the values pass through environment variables and shells unescaped.
    const serviceSecret = new random.RandomPassword(`${name}-service-secret`, { length: 64, special: false }, child);
    // The user service's password rules want two character classes at least; ask for three.
    const adminPassword = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false, minLower: 2, minUpper: 2, minNumeric: 2 }, child);
    const seeds = args.signingKeys.map((key) => new random.RandomBytes(`${name}-signing-key-${key}`, { length: 32 }, child).base64);
    const signingKeys = pulumi.all(seeds).apply((all) => JSON.stringify(all.map(ed25519PrivateJwk)));

    this.serviceSecret = storeSecret(`${name}-service-secret`, "SERVICE_SECRET of the services and the edge", serviceSecret.result, args.keepData, this);
    this.adminPassword = storeSecret(
      `${name}-admin-password`,
      "ADMIN_PASSWORD of the user service: the first admin's",
      adminPassword.result,
      args.keepData,
      this,
    );
    this.signingKeys = storeSecret(`${name}-auth-signing-keys`, "AUTH_SIGNING_KEYS of the user service", signingKeys, args.keepData, this);

    this.registerOutputs({
      serviceSecretArn: this.serviceSecret.arn,
      adminPasswordSecretArn: this.adminPassword.arn,
      signingKeysSecretArn: this.signingKeys.arn,
    });
  }
}
