import { beforeAll, describe, expect, test } from "vitest";
import { acceptsTags } from "./testing/aws-schema.js";
import { ecsService } from "./testing/ecs.js";
import { deploymentTests } from "./testing/deployment.js";
import { exposedStackTests } from "./testing/exposed-stack.js";
import { publicEndpoint, runProgram, type MockCloud } from "./testing/mock-cloud.js";

describe("the staging stack", () => {
  let cloud: MockCloud;
  let outputs: Record<string, unknown>;

  beforeAll(async () => {
    ({ cloud, outputs } = await runProgram("staging", publicEndpoint("staging")));
  });

  test("builds every process, smaller than prod and larger than dev", () => {
    const services = cloud.ofType(ecsService);
    expect(services).toHaveLength(5);
    for (const service of services) expect(service.inputs["desiredCount"]).toBe(2);
    for (const task of cloud.ofType("aws:ecs/taskDefinition:TaskDefinition")) expect(task.inputs).toMatchObject({ cpu: "512", memory: "1024" });
    for (const target of cloud.ofType("aws:appautoscaling/target:Target")) expect(target.inputs).toMatchObject({ minCapacity: 2, maxCapacity: 4 });
  });

  test("keeps its data like prod, in a single-AZ database and one NAT gateway", () => {
    const [database] = cloud.ofType("aws:rds/instance:Instance");
    expect(database?.inputs).toMatchObject({ instanceClass: "db.t4g.medium", multiAz: false, deletionProtection: true, skipFinalSnapshot: false });
    expect(cloud.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    for (const group of cloud.ofType("aws:cloudwatch/logGroup:LogGroup")) expect(group.inputs["retentionInDays"]).toBe(30);
  });

  test("names its resources inventory-staging-*", () => {
    expect(cloud.ofType("aws:ec2/vpc:Vpc").map((v) => v.name)).toEqual(["inventory-staging"]);
  });

  exposedStackTests("staging", () => ({ cloud, outputs }));
  deploymentTests("staging", () => ({ cloud, outputs }));

  test("tags every taggable resource with the product and the environment", () => {
    const taggable = cloud.resources.filter((r) => acceptsTags(r.type));
    expect(taggable.length).toBeGreaterThan(100);
    for (const resource of taggable) {
      expect({ resource: `${resource.type} ${resource.name}`, tags: resource.inputs["tags"] }).toMatchObject({
        tags: { product: "inventory-management", environment: "staging" },
      });
    }
  });
});
