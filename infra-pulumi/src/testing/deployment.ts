import { processes } from "@inv/service-catalog";
import { expect, test } from "vitest";
import { containersOf, ecsService } from "./ecs.js";
import type { MockCloud, Stack } from "./mock-cloud.js";

const taskDefinitionType = "aws:ecs/taskDefinition:TaskDefinition";
const dataOwners = new Set(processes.filter((p) => p.databaseSchema !== null).map((p) => p.name as string));

/**
 * What every stack's deployment must hold, checked against a run of the whole program: image by digest for the
 * tasks' platform, migration first, database access only where data is kept, rollouts that fail loudly, private
 * ways to the AWS APIs. The dev stack checks the same in more detail (dev-stack.test.ts).
 */
export function deploymentTests(stack: Stack, run: () => { cloud: MockCloud; outputs: Record<string, unknown> }): void {
  const prefix = `inventory-${stack}`;

  test("runs every task from one image pinned by digest, built for the tasks' architecture", () => {
    const { cloud, outputs } = run();
    const taskDefinitions = cloud.ofType(taskDefinitionType);
    expect(taskDefinitions).toHaveLength(6);
    for (const taskDefinition of taskDefinitions) {
      expect(containersOf(taskDefinition).map((c) => c.image)).toEqual([outputs["imageRef"]]);
      expect(taskDefinition.inputs["runtimePlatform"]).toEqual({ operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" });
    }
    expect(outputs["imageRef"]).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(cloud.ofType("docker-build:index:Image").map((i) => i.inputs["platforms"])).toEqual([["linux/amd64"]]);
    expect(cloud.ofType("aws:ecr/repository:Repository").map((r) => r.inputs["forceDelete"])).toEqual([false]);
  });

  test("migrates before every ECS service, which waits for a steady state and checks its revision", () => {
    const { cloud } = run();
    const migration = cloud.named("command:local:Command", `${prefix}-migrate-run`);
    for (const service of cloud.ofType(ecsService)) {
      expect(service.dependsOn).toContainEqual(expect.stringMatching(new RegExp(`command:local:Command::${migration.name}$`)));
      expect(service.inputs).toMatchObject({ waitForSteadyState: true, deploymentCircuitBreaker: { enable: true, rollback: true } });
    }
    expect(cloud.ofType("command:local:Command").filter((c) => c.name.endsWith("-rollout"))).toHaveLength(5);
    for (const registry of cloud.ofType("aws:servicediscovery/service:Service"))
      expect(registry.inputs["healthCheckCustomConfig"]).toEqual({ failureThreshold: 1 });
  });

  test("hands DATABASE_URL only to the services that keep data, each its own, and the master's URL only to the migration", () => {
    const { cloud } = run();
    const admin = cloud.named("aws:secretsmanager/secretVersion:SecretVersion", `${prefix}-database-admin-url`);
    for (const taskDefinition of cloud.ofType(taskDefinitionType)) {
      const [container] = containersOf(taskDefinition);
      const secrets = Object.fromEntries(container!.secrets.map((s) => [s.name, s.valueFrom]));
      const family = taskDefinition.inputs["family"] as string;
      const name = family.slice(prefix.length + 1);
      if (name === "migrate") {
        expect(secrets["DATABASE_ADMIN_URL"]).toBe(`${admin.arn}:::version-${admin.name}`);
        continue;
      }
      expect(JSON.stringify(secrets)).not.toContain(admin.arn);
      if (dataOwners.has(name)) {
        const own = cloud.named("aws:secretsmanager/secretVersion:SecretVersion", `${prefix}-${name}-database-url`);
        expect(secrets["DATABASE_URL"]).toBe(`${own.arn}:::version-${own.name}`);
      } else {
        expect(secrets["DATABASE_URL"]).toBeUndefined();
      }
    }
  });

  test("reaches ECR, CloudWatch Logs and Secrets Manager through interface endpoints, and S3 through a gateway", () => {
    const { cloud } = run();
    const endpoints = cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints.map((e) => [e.inputs["serviceName"], e.inputs["vpcEndpointType"]]).sort()).toEqual(
      [
        ["com.amazonaws.eu-central-1.ecr.api", "Interface"],
        ["com.amazonaws.eu-central-1.ecr.dkr", "Interface"],
        ["com.amazonaws.eu-central-1.logs", "Interface"],
        ["com.amazonaws.eu-central-1.s3", "Gateway"],
        ["com.amazonaws.eu-central-1.secretsmanager", "Interface"],
      ].sort(),
    );
  });

  test("scales the edge on requests per task as well as CPU", () => {
    const { cloud } = run();
    const edgePolicies = cloud
      .ofType("aws:appautoscaling/policy:Policy")
      .filter((p) => p.inputs["resourceId"] === `service/${prefix}/edge`)
      .map((p) => p.inputs["targetTrackingScalingPolicyConfiguration"].predefinedMetricSpecification.predefinedMetricType);
    expect(edgePolicies.sort()).toEqual(["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"]);
  });
}
