import { processNamed } from "@inv/service-catalog";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import type { ServiceProcess } from "./processes.js";
import type { StoredSecret } from "./secrets.js";
import type { ProcessPlacement } from "./service.js";
import { containersOf } from "./testing/ecs.js";
import { settled, startMockCloud, type MockCloud } from "./testing/mock-cloud.js";

const ingressRule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const secret = (name: string): StoredSecret => ({
  arn: pulumi.output(`arn:aws:secretsmanager:eu-central-1:123456789012:secret:${name}`),
  valueFrom: pulumi.output(`arn:aws:secretsmanager:eu-central-1:123456789012:secret:${name}:::v1`),
});

/** A service process as the catalog would declare one that keeps no data (today every service keeps some). */
const stateless: ServiceProcess = { ...processNamed("warehouse"), databaseSchema: null };
const owner = processNamed("inventory");

describe("a service process that keeps no data", () => {
  let cloud: MockCloud;
  const errors: Record<string, string> = {};

  beforeAll(async () => {
    cloud = await startMockCloud({});
    const { GrpcService } = await import("./service.js");
    const { SecurityGroups } = await import("./security.js");
    const placement: ProcessPlacement = {
      image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/app@sha256:${"ab".repeat(32)}`,
      imageRepositoryArn: "arn:aws:ecr:eu-central-1:123456789012:repository/app",
      cpuArchitecture: "X86_64",
      cpu: "256",
      memory: "512",
      tasks: { min: 1, max: 2 },
      clusterArn: "arn:aws:ecs:eu-central-1:123456789012:cluster/test",
      clusterName: "test",
      namespaceId: "ns-test",
      serviceDomain: "inventory.internal",
      subnetIds: ["subnet-a", "subnet-b"],
      namePrefix: "test",
      logRetentionDays: 1,
      logLevel: "info",
      startAfter: [],
    };
    const shared = { ...placement, securityGroupId: "sg-x", redisUrlSecret: secret("redis-url"), serviceSecret: secret("service-secret") };
    new GrpcService("stateless", { ...shared, process: stateless, databaseUrlSecret: undefined });
    new SecurityGroups("mixed", { vpcId: "vpc-test", processes: [stateless, owner] });
    for (const [name, build] of Object.entries({
      "stateless with a URL": () => new GrpcService("bad-1", { ...shared, process: stateless, databaseUrlSecret: secret("x") }),
      "owner without a URL": () => new GrpcService("bad-2", { ...shared, process: owner, databaseUrlSecret: undefined }),
    })) {
      try {
        build();
      } catch (error) {
        errors[name] = (error as Error).message;
      }
    }
    await settled();
  });

  test("gets no DATABASE_URL, no RDS CA and no right to read a database secret", () => {
    const [taskDefinition] = cloud.ofType("aws:ecs/taskDefinition:TaskDefinition");
    const [container] = containersOf(taskDefinition!);
    expect(container?.secrets.map((s) => s.name).sort()).toEqual(["REDIS_URL", "SERVICE_SECRET"]);
    expect(container?.environment.map((e) => e.name)).not.toContain("NODE_EXTRA_CA_CERTS");
    const [policy] = cloud.ofType("aws:iam/rolePolicy:RolePolicy");
    const readable = JSON.parse(policy?.inputs["policy"]).Statement.find((s: { Action: string[] }) => s.Action.includes("secretsmanager:GetSecretValue"));
    expect(readable.Resource).toEqual(["redis-url", "service-secret"].map((name) => `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${name}`));
  });

  test("has no path to Postgres: the database group admits the data owners and the migration task only", () => {
    const group = (role: string) => cloud.named("aws:ec2/securityGroup:SecurityGroup", `mixed-${role}`).id;
    const database = cloud
      .ofType(ingressRule)
      .filter((r) => r.inputs["securityGroupId"] === group("database"))
      .map((r) => r.inputs["referencedSecurityGroupId"])
      .sort();
    expect(database).toEqual([group("inventory"), group("migrate")].sort());
    const stateless = cloud.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) => r.inputs["securityGroupId"] === group("warehouse"));
    expect(stateless.map((r) => r.inputs["fromPort"])).not.toContain(5432);
  });

  test("refuses a database URL for a process that keeps no data, and a process that keeps data without one", () => {
    expect(errors).toEqual({
      "stateless with a URL": "warehouse keeps no data: it gets no DATABASE_URL",
      "owner without a URL": "inventory keeps data and needs its own DATABASE_URL",
    });
  });
});
