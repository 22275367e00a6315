import { randomBytes } from "node:crypto";
import { type Algorithm, hash, parseOptions, verify } from "@node-rs/argon2";
import type { PasswordCost } from "../config.js";

// The package's Algorithm is a const enum, which isolated modules cannot read; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

/**
 * argon2id password hashing. Hashes are PHC strings, so each carries the cost it was made with
 * and verification needs no settings; `needsRehash` tells when a stored hash is below the
 * current cost, so a sign-in can upgrade it.
 */
export class PasswordHasher {
  /** A hash of nothing anyone knows, made once at start so the first unknown user costs no more than the rest. */
  readonly #dummy: Promise<string>;

  constructor(private readonly cost: PasswordCost) {
    this.#dummy = this.hash(randomBytes(16).toString("base64url"));
  }

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, memoryCost: this.cost.memoryKib, timeCost: this.cost.iterations, parallelism: 1 });
  }

  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await verify(stored, password);
    } catch {
      return false; // a malformed stored hash matches nothing
    }
  }

  /**
   * Spends the time of a real verification and fails: sign-in calls this for an unknown user, so
   * that how long a failure takes does not tell whether the username exists.
   */
  async verifyNothing(password: string): Promise<false> {
    await this.verify(await this.#dummy, password);
    return false;
  }

  needsRehash(stored: string): boolean {
    try {
      const o = parseOptions(stored);
      return o.algorithm !== ARGON2ID || o.memoryCost < this.cost.memoryKib || o.timeCost < this.cost.iterations;
    } catch {
      return true;
    }
  }
}
