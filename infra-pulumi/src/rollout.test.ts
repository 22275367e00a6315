import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { rolloutCheckScript } from "./rollout.js";

const requested = "arn:aws:ecs:eu-central-1:123456789012:task-definition/inventory-dev-user:8";
const previous = "arn:aws:ecs:eu-central-1:123456789012:task-definition/inventory-dev-user:7";

describe("the rollout check", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rollout-"));
    // Answers `aws ecs describe-services` as ECS would, from FAKE_RUNNING and FAKE_ROLLOUT.
    writeFileSync(join(dir, "aws"), `#!/bin/sh\n[ "$2" = describe-services ] || exit 2\nprintf '%s\\t%s\\n' "$FAKE_RUNNING" "$FAKE_ROLLOUT"\n`);
    chmodSync(join(dir, "aws"), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = (running: string, rollout: string) =>
    spawnSync("/bin/sh", ["-c", rolloutCheckScript], {
      encoding: "utf8",
      env: {
        PATH: `${dir}:/usr/bin:/bin`,
        REGION: "eu-central-1",
        CLUSTER: "inventory-dev",
        SERVICE: "user",
        TASK_DEFINITION: requested,
        FAKE_RUNNING: running,
        FAKE_ROLLOUT: rollout,
      },
    });

  test("passes when the service settled on the requested revision", () => {
    expect(check(requested, "COMPLETED").status).toBe(0);
  });

  test("fails when the circuit breaker rolled the service back to the previous revision", () => {
    const result = check(previous, "COMPLETED");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`user did not roll out ${requested}: it runs ${previous}`);
  });

  test("fails when the deployment of the requested revision did not complete", () => {
    const result = check(requested, "FAILED");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("its deployment is FAILED, not COMPLETED");
  });
});
