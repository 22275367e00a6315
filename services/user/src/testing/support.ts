/**
 * What the user service's tests share: settings that make argon2 cheap and keep throttling
 * counters apart, and a started service with a signed-in administrator.
 */
import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { vi } from "vitest";
import { GrpcChannel, ServiceIdentity, createGrpcClient, type GrpcClient } from "@inv/platform";
import { startTestService, type TestService } from "@inv/platform/testing";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { DEFAULT_THROTTLE, type UserSettings } from "../config.js";
import { createUserService, type UserService as UserServiceHandle } from "../index.js";

export const ADMIN = { username: "root", password: "Correct-Horse-7-Battery" };

/** Cheap argon2 (the cost is not under test), an administrator, and counters of this test's own. */
export function testSettings(overrides: Partial<UserSettings> = {}): UserSettings {
  return {
    accessTokenMinutes: 15,
    refreshTokenDays: 7,
    signingKeys: undefined,
    signingKeyRotationDays: 30,
    signingKeyPublishMinutes: 10,
    housekeepingSeconds: 3600,
    passwordHash: { memoryKib: 64, iterations: 1 },
    admin: { ...ADMIN },
    ...overrides,
    throttle: {
      ...DEFAULT_THROTTLE,
      // One test client is one address: give it room unless a test is about the address limit.
      addressDelayAfter: 1_000,
      addressLockoutAfter: 2_000,
      delayStepMs: 1,
      delayMaxMs: 5,
      ...overrides.throttle,
      keyPrefix: `test:${randomBytes(6).toString("hex")}`,
    },
  };
}

export interface UserTestService {
  readonly svc: TestService;
  readonly handle: UserServiceHandle;
  /** A UserService client signed in as the bootstrap administrator. */
  readonly admin: GrpcClient<typeof UserService>;
  readonly adminToken: string;
  /** A client of any service sending exactly this metadata. */
  clientWith<S extends DescService>(desc: S, metadata: Record<string, string>): GrpcClient<S>;
  /** A client sending this bearer credential (access token or API key). */
  as<S extends DescService>(desc: S, credential: string): GrpcClient<S>;
  /** A client calling as another platform service (for the internal TokenService and AuditRecordService). */
  asService<S extends DescService>(desc: S): GrpcClient<S>;
  /** Signs in; returns the login response. */
  login(username: string, password: string): ReturnType<GrpcClient<typeof UserService>["login"]>;
  stop(): Promise<void>;
}

/** Starts the user service on a scratch database, answering identity itself, and signs the administrator in. */
export async function startUserService(settings: UserSettings = testSettings(), extra: { print?: (text: string) => void } = {}): Promise<UserTestService> {
  const handle = createUserService(settings, { print: extra.print ?? (() => {}) });
  const serviceSecret = randomBytes(32).toString("hex");
  const svc = await startTestService(handle.definition, { ownIdentity: true, serviceSecret });
  // Calls "from another platform service": the internal services take no one else.
  const identity = await ServiceIdentity.start("inventory", serviceSecret, ["user"]);
  const serviceChannel = new GrpcChannel(`dns:///${svc.address}`, { deadlineMs: 30_000, metadata: () => ({ "x-service-token": identity.tokenFor("user") }) });
  const anonymous = svc.clientWith(UserService, {});
  const login = (username: string, password: string) => anonymous.login({ username, password });
  const adminToken = settings.admin.password ? (await login(settings.admin.username ?? "admin", settings.admin.password)).accessToken : "";
  const as = <S extends DescService>(desc: S, credential: string) => svc.clientWith(desc, { authorization: `Bearer ${credential}` });
  return {
    svc,
    handle,
    admin: as(UserService, adminToken),
    adminToken,
    clientWith: (desc, metadata) => svc.clientWith(desc, metadata),
    as,
    asService: (desc) => createGrpcClient(desc, serviceChannel),
    login,
    async stop() {
      serviceChannel.close();
      identity.close();
      await svc.stop();
    },
  };
}

export { failure } from "@inv/platform/testing";

/**
 * Retries a check for a moment. Over Redis the bus delivers an invalidation asynchronously, even
 * to the process that published it, so a call through the auth cache right after a revocation
 * may still see the old answer for a few milliseconds (IntrospectToken itself never does).
 */
export const eventually = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 2_000, interval: 20 });

let seq = 0;
/** A unique, valid username for this test file. */
export const uniqueName = (stem = "user") => `${stem}-${process.pid}-${++seq}`;
