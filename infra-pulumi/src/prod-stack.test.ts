import { beforeAll, describe, expect, test } from "vitest";
import { acceptsTags } from "./testing/aws-schema.js";
import { ecsService } from "./testing/ecs.js";
import { deploymentTests } from "./testing/deployment.js";
import { exposedStackTests } from "./testing/exposed-stack.js";
import { publicEndpoint, runProgram, type MockCloud } from "./testing/mock-cloud.js";

describe("the prod stack", () => {
  let cloud: MockCloud;
  let outputs: Record<string, unknown>;

  beforeAll(async () => {
    ({ cloud, outputs } = await runProgram("prod", publicEndpoint("prod")));
  });

  test("runs a Multi-AZ database protected from deletion", () => {
    const [database, ...more] = cloud.ofType("aws:rds/instance:Instance");
    expect(more).toEqual([]);
    expect(database?.inputs).toMatchObject({ multiAz: true, deletionProtection: true, instanceClass: "db.m7g.large" });
  });

  test("replicates Redis across zones with automatic failover", () => {
    expect(cloud.ofType("aws:elasticache/replicationGroup:ReplicationGroup")[0]?.inputs).toMatchObject({
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
    });
  });

  test("keeps at least two larger tasks of every process", () => {
    const services = cloud.ofType(ecsService);
    expect(services).toHaveLength(5);
    for (const service of services) expect(service.inputs["desiredCount"]).toBeGreaterThanOrEqual(2);
    for (const target of cloud.ofType("aws:appautoscaling/target:Target")) {
      expect(target.inputs["minCapacity"]).toBeGreaterThanOrEqual(2);
      expect(target.inputs["maxCapacity"]).toBeGreaterThan(target.inputs["minCapacity"]);
    }
    for (const task of cloud.ofType("aws:ecs/taskDefinition:TaskDefinition")) {
      expect(task.inputs).toMatchObject({ cpu: "1024", memory: "2048" });
    }
  });

  test("puts a NAT gateway in each zone", () => {
    expect(cloud.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(2);
  });

  exposedStackTests("prod", () => ({ cloud, outputs }));
  deploymentTests("prod", () => ({ cloud, outputs }));

  test("tags every taggable resource with the product and the environment", () => {
    const taggable = cloud.resources.filter((r) => acceptsTags(r.type));
    expect(taggable.length).toBeGreaterThan(100);
    for (const resource of taggable) {
      expect({ resource: `${resource.type} ${resource.name}`, tags: resource.inputs["tags"] }).toMatchObject({
        tags: { product: "inventory-management", environment: "prod" },
      });
    }
  });
});
