import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { migrationScript } from "./migration.js";

/** Answers as the AWS CLI would, from the FAKE_* variables, and logs every call. */
const fakeAws = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$2" in
  run-task) printf '%s\\t%s\\n' "$FAKE_TASK" "$FAKE_FAILURE" ;;
  wait)
    n=$(cat "$FAKE_WAITS" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$FAKE_WAITS"
    [ "$n" -gt "$FAKE_WAIT_TIMEOUTS" ] || exit 255 ;;
  describe-tasks) printf '%s\\t%s\\n' "$FAKE_EXIT_CODE" "$FAKE_STOPPED_REASON" ;;
  *) exit 2 ;;
esac
`;

describe("the migration script", () => {
  let dir: string;
  let run = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "migrate-"));
    writeFileSync(join(dir, "aws"), fakeAws);
    chmodSync(join(dir, "aws"), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function migrate(fake: { task?: string; failure?: string; waitTimeouts?: number; exitCode?: string; stoppedReason?: string; waitRounds?: number }) {
    run += 1;
    const log = join(dir, `calls-${run}.log`);
    const result = spawnSync("/bin/sh", ["-c", migrationScript], {
      encoding: "utf8",
      env: {
        PATH: `${dir}:/usr/bin:/bin`,
        REGION: "eu-central-1",
        CLUSTER: "arn:aws:ecs:eu-central-1:123456789012:cluster/inventory-dev",
        TASK_DEFINITION: "arn:aws:ecs:eu-central-1:123456789012:task-definition/inventory-dev-migrate:7",
        SUBNETS: "subnet-a,subnet-b",
        SECURITY_GROUP: "sg-migrate",
        LOG_GROUP: "/ecs/inventory-dev/migrate",
        WAIT_ROUNDS: String(fake.waitRounds ?? 6),
        FAKE_LOG: log,
        FAKE_WAITS: join(dir, `waits-${run}`),
        FAKE_TASK: fake.task ?? "arn:aws:ecs:eu-central-1:123456789012:task/inventory-dev/abc",
        FAKE_FAILURE: fake.failure ?? "None",
        FAKE_WAIT_TIMEOUTS: String(fake.waitTimeouts ?? 0),
        FAKE_EXIT_CODE: fake.exitCode ?? "0",
        FAKE_STOPPED_REASON: fake.stoppedReason ?? "Essential container in task exited",
      },
    });
    let calls: string[] = [];
    try {
      calls = readFileSync(log, "utf8").trim().split("\n");
    } catch {}
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
  }

  test("starts the task once on Fargate in the given subnets and group, waits for it, and succeeds on exit code 0", () => {
    const { status, calls, stdout } = migrate({});
    expect(status).toBe(0);
    expect(calls).toHaveLength(3);
    const [start, wait, describeTasks] = calls;
    expect(start).toContain("ecs run-task --region eu-central-1 --cluster arn:aws:ecs:eu-central-1:123456789012:cluster/inventory-dev");
    expect(start).toContain("--task-definition arn:aws:ecs:eu-central-1:123456789012:task-definition/inventory-dev-migrate:7");
    expect(start).toContain("--launch-type FARGATE --count 1");
    expect(start).toContain("awsvpcConfiguration={subnets=[subnet-a,subnet-b],securityGroups=[sg-migrate],assignPublicIp=DISABLED}");
    expect(wait).toBe(
      "ecs wait tasks-stopped --region eu-central-1 --cluster arn:aws:ecs:eu-central-1:123456789012:cluster/inventory-dev --tasks arn:aws:ecs:eu-central-1:123456789012:task/inventory-dev/abc",
    );
    expect(describeTasks).toContain("ecs describe-tasks");
    expect(describeTasks).toContain("containers[?name=='migrate'].exitCode");
    expect(stdout).toContain("finished");
  });

  test("fails when the migration exits non-zero, naming the code, the reason and the log", () => {
    const { status, stderr } = migrate({ exitCode: "1" });
    expect(status).not.toBe(0);
    expect(stderr).toContain("failed with exit code 1 (Essential container in task exited); see /ecs/inventory-dev/migrate");
  });

  test("fails when the container never ran (no exit code)", () => {
    const { status, stderr } = migrate({ exitCode: "None", stoppedReason: "CannotPullContainerError: pull image manifest has been retried" });
    expect(status).not.toBe(0);
    expect(stderr).toContain("exit code None (CannotPullContainerError");
  });

  test("fails when ECS does not start the task, without waiting", () => {
    const { status, stderr, calls } = migrate({ task: "None", failure: "RESOURCE:ENI" });
    expect(status).not.toBe(0);
    expect(stderr).toContain("did not start: RESOURCE:ENI");
    expect(calls).toHaveLength(1);
  });

  test("waits again while the task runs longer than one wait, and gives up after WAIT_ROUNDS", () => {
    expect(migrate({ waitTimeouts: 2 })).toMatchObject({ status: 0 });
    const slow = migrate({ waitTimeouts: 10, waitRounds: 3 });
    expect(slow.status).not.toBe(0);
    expect(slow.stderr).toContain("has not stopped after 3 waits");
    expect(slow.calls.filter((c) => c.startsWith("ecs wait"))).toHaveLength(3);
  });
});
