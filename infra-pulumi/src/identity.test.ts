import { createHash, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { ed25519PrivateJwk, withoutUsername, type SigningJwk } from "./identity.js";
import { generatedBytes, secretValue, settled, startMockCloud, type MockCloud } from "./testing/mock-cloud.js";

const secret = "aws:secretsmanager/secret:Secret";
const secretVersion = "aws:secretsmanager/secretVersion:SecretVersion";
const password = "random:index/randomPassword:RandomPassword";

/** RFC 7638 thumbprint of an OKP key, computed here by hand, independently of the program. */
const thumbprint = (jwk: { crv: string; kty: string; x: string }) =>
  createHash("sha256").update(`{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`).digest("base64url");

/** Signs and verifies a message with the key, the way the user service and its verifiers will. */
function signsAndVerifies(jwk: SigningJwk): boolean {
  const message = Buffer.from("inventory-platform access token");
  const signature = sign(null, message, createPrivateKey({ key: { ...jwk }, format: "jwk" }));
  const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  return verify(null, message, publicKey, signature) && !verify(null, Buffer.from("something else"), publicKey, signature);
}

describe("ed25519PrivateJwk", () => {
  test("derives the RFC 8032 test vector's public key from its seed", () => {
    // RFC 8032, 7.1, TEST 1.
    const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
    const jwk = ed25519PrivateJwk(seed.toString("base64"));
    expect(jwk).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      d: seed.toString("base64url"),
      x: Buffer.from("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "hex").toString("base64url"),
      kid: thumbprint(jwk),
      alg: "EdDSA",
      use: "sig",
    });
    expect(signsAndVerifies(jwk)).toBe(true);
  });

  test("refuses a seed that is not 32 bytes", () => {
    expect(() => ed25519PrivateJwk(Buffer.alloc(31).toString("base64"))).toThrow(/32 bytes, not 31/);
  });
});

describe("withoutUsername", () => {
  test.each([
    ["xxOpsyyOPSzz", "ops", "xx~psyy~PSzz"],
    ["aaaa", "aaa", "~~aa"],
    ["Q7admin3admiNx", "admin", "Q7~dmin3~dmiNx"],
    ["nothing-here", "ops", "nothing-here"],
    ["xxabyy", "ab", "xxabyy"],
  ])("breaks every occurrence of the username in %s (username %s)", (password, username, expected) => {
    const result = withoutUsername(password, username);
    expect(result).toBe(expected);
    if (username.length >= 3) expect(result.toLowerCase()).not.toContain(username);
    expect([...result]).toHaveLength([...password].length);
  });
});

describe("IdentitySecrets", () => {
  let cloud: MockCloud;
  const signingKeysOf = (stack: string) =>
    JSON.parse(secretValue(cloud.named(secretVersion, `${stack}-auth-signing-keys`).inputs["secretString"])) as SigningJwk[];

  beforeAll(async () => {
    cloud = await startMockCloud({});
    const { IdentitySecrets } = await import("./identity.js");
    new IdentitySecrets("dev", { adminUsername: "admin", signingKeys: ["initial"], keepData: false });
    // Mid-rotation: the new key signs, the old one is still published.
    new IdentitySecrets("prod", { adminUsername: "admin", signingKeys: ["second", "initial"], keepData: true });
    await settled();
  });

  test("stores SERVICE_SECRET, ADMIN_PASSWORD and AUTH_SIGNING_KEYS in Secrets Manager, each value a Pulumi secret", () => {
    for (const stack of ["dev", "prod"]) {
      for (const name of ["service-secret", "admin-password", "auth-signing-keys"]) {
        const version = cloud.named(secretVersion, `${stack}-${name}`);
        expect(cloud.referredTo(version.inputs["secretId"]).name).toBe(`${stack}-${name}`);
        expect(secretValue(version.inputs["secretString"])).not.toBe("");
      }
    }
  });

  test("lets a destroyed dev secret be recreated at once but keeps prod's recoverable", () => {
    for (const name of ["service-secret", "admin-password", "auth-signing-keys"]) {
      expect(cloud.named(secret, `dev-${name}`).inputs["recoveryWindowInDays"]).toBe(0);
      expect(cloud.named(secret, `prod-${name}`).inputs["recoveryWindowInDays"]).toBe(30);
    }
  });

  test("generates SERVICE_SECRET long enough for the processes (at least 32 characters)", () => {
    expect(cloud.named(password, "dev-service-secret").inputs).toMatchObject({ length: 64, special: false });
    const value = secretValue(cloud.named(secretVersion, "dev-service-secret").inputs["secretString"]);
    expect(cloud.generatedSecrets()).toContain(value);
  });

  test("generates an admin password the user service's password rules accept", () => {
    const { inputs } = cloud.named(password, "dev-admin-password");
    expect(inputs["length"]).toBeGreaterThanOrEqual(12);
    // At least two character classes (here three) and room for five distinct characters.
    expect(inputs).toMatchObject({ minLower: 2, minUpper: 2, minNumeric: 2 });
    expect(cloud.generatedSecrets()).toContain(secretValue(cloud.named(secretVersion, "dev-admin-password").inputs["secretString"]));
  });

  test("stores AUTH_SIGNING_KEYS as a JSON array of valid private Ed25519 JWKs from 32 random bytes each", () => {
    const [key, ...more] = signingKeysOf("dev");
    expect(more).toEqual([]);
    expect(cloud.named("random:index/randomBytes:RandomBytes", "dev-signing-key-initial").inputs).toMatchObject({ length: 32 });
    expect(key).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      d: generatedBytes("dev-signing-key-initial", 32).toString("base64url"),
      x: expect.stringMatching(/^[\w-]{43}$/),
      kid: thumbprint(key!),
      alg: "EdDSA",
      use: "sig",
    });
    expect(signsAndVerifies(key!)).toBe(true);
  });

  test("lists the signing keys in the configured order, the first one signing", () => {
    const keys = signingKeysOf("prod");
    expect(keys.map((k) => k.d)).toEqual(["prod-signing-key-second", "prod-signing-key-initial"].map((n) => generatedBytes(n, 32).toString("base64url")));
    expect(new Set(keys.map((k) => k.kid)).size).toBe(2);
    for (const key of keys) expect(signsAndVerifies(key)).toBe(true);
  });
});
