/**
 * Failed sign-in throttling, per account and per client address (every call of this file comes
 * from 127.0.0.1, so the tests run in order and the address test comes last).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, startUserService, testSettings, uniqueName, type UserTestService } from "./testing/support.js";

let t: UserTestService;
const PASSWORD = "Tr0ub4dor&3-horse";
const WRONG = "Wrong-Password-99";
const settings = testSettings({
  throttle: {
    accountDelayAfter: 2,
    accountLockoutAfter: 4,
    addressDelayAfter: 20,
    addressLockoutAfter: 30,
    lockoutSeconds: 900,
    delayStepMs: 150,
    delayMaxMs: 300,
    keyPrefix: "",
  },
});

beforeAll(async () => {
  t = await startUserService(settings);
});
afterAll(() => t?.stop());

const newUser = async () => {
  const username = uniqueName();
  await t.admin.createUser({ user: { username, email: `${username}@example.com`, roles: ["viewer"] }, password: PASSWORD });
  return username;
};
const timed = async <T>(work: Promise<T>) => {
  const started = performance.now();
  const result = await work;
  return { result, ms: performance.now() - started };
};
let failures = 0;
const fail = (username: string) => {
  failures++;
  return failure(t.login(username, WRONG));
};

describe("per account", () => {
  it("delays failures past the first few, then refuses even the right password with RESOURCE_EXHAUSTED and a retry delay", async () => {
    const username = await newUser();
    const email = `${username}@example.com`;
    await fail(username);
    await fail(email); // named by email, the same account
    const delayed = await timed(fail(username));
    expect(delayed.result).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(delayed.ms).toBeGreaterThanOrEqual(140);
    await fail(email.toUpperCase());
    const refused = await failure(t.login(username.toUpperCase(), PASSWORD));
    expect(refused).toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: "LOGIN_THROTTLED" });
    expect(refused.retryAfterSeconds).toBeGreaterThan(890);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(900);
    expect(refused.message).toContain(`retry in ${refused.retryAfterSeconds} seconds`);
    // The lockout is the account's: another user from the same address still signs in.
    await t.login(await newUser(), PASSWORD);
  });

  it("a success clears the account's count", async () => {
    const username = await newUser();
    for (let round = 0; round < 3; round++) {
      await fail(username);
      await fail(username);
      await fail(username);
      await t.login(username, PASSWORD);
    }
  });

  it("unknown accounts are counted like known ones, so the throttle tells nothing about which exist", async () => {
    const ghost = uniqueName("ghost");
    for (let i = 0; i < 4; i++) await fail(ghost);
    expect(await failure(t.login(ghost, WRONG))).toMatchObject({ code: "RESOURCE_EXHAUSTED" });
  });
});

describe("per address", () => {
  it("refuses an address after repeated failures across accounts, whatever account it tries next", async () => {
    const good = await newUser();
    let refused: Awaited<ReturnType<typeof failure>> | undefined;
    for (let i = failures; i < 40 && !refused; i++) {
      const f = await failure(t.login(uniqueName("spray"), WRONG));
      if (f.code === "RESOURCE_EXHAUSTED") refused = f;
      else failures++;
    }
    expect(failures).toBe(30);
    expect(refused).toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: "LOGIN_THROTTLED" });
    expect(await failure(t.login(good, PASSWORD))).toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    // Calls other than sign-in are not throttled.
    expect((await t.admin.getMe({})).user).toBeDefined();
  });
});
