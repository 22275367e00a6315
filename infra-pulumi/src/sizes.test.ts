import { heapFlags, migrateCommand } from "@inv/service-catalog";
import { beforeAll, describe, expect, test } from "vitest";
import { ecsService, processOn } from "./testing/ecs.js";
import { project, publicEndpoint, runProgram, type MockCloud } from "./testing/mock-cloud.js";

/** The prod stack with some processes sized and bounded on their own, as `perProcess` in Pulumi.prod.yaml would. */
const perProcess = {
  edge: { cpu: "2048", memory: "4096", minTasks: 3, maxTasks: 20 },
  user: { cpu: 512, memory: 2048 },
  reservation: { minTasks: 4, maxTasks: 6 },
  migrate: { cpu: "512", memory: "1024" },
};

describe("sizes and task counts per process", () => {
  let cloud: MockCloud;

  beforeAll(async () => {
    ({ cloud } = await runProgram("prod", { ...publicEndpoint("prod"), [`${project}:perProcess`]: JSON.stringify(perProcess) }));
  });

  const bounds = (name: string) => {
    const target = cloud.ofType("aws:appautoscaling/target:Target").find((t) => t.inputs["resourceId"] === `service/inventory-prod/${name}`);
    return [target?.inputs["minCapacity"], target?.inputs["maxCapacity"]];
  };

  test.each([
    ["edge", "2048", "4096", 3, 20],
    ["user", "512", "2048", 2, 10],
    ["reservation", "1024", "2048", 4, 6],
    ["inventory", "1024", "2048", 2, 10],
    ["warehouse", "1024", "2048", 2, 10],
  ])("runs %s on %s CPU units and %s MiB, between %i and %i tasks", (name, cpu, memory, min, max) => {
    const { service, taskDefinition, container } = processOn(cloud, name);
    expect(taskDefinition.inputs).toMatchObject({ cpu, memory });
    // V8's heap follows the task's memory, not the host's.
    expect(container.command).toEqual(expect.arrayContaining([...heapFlags(Number(memory), name === "edge" ? "edge" : "service")]));
    expect(bounds(name)).toEqual([min, max]);
    expect(service.inputs["desiredCount"]).toBe(min);
  });

  test("sizes the migration task on its own", () => {
    const [migrate] = cloud.ofType("aws:ecs/taskDefinition:TaskDefinition").filter((t) => t.inputs["family"] === "inventory-prod-migrate");
    expect(migrate?.inputs).toMatchObject({ cpu: "512", memory: "1024" });
    expect(JSON.parse(migrate?.inputs["containerDefinitions"])[0].command).toEqual(migrateCommand(1024));
  });

  test("scales the edge's request target with its size: 6,000 a minute per 256 CPU units", () => {
    const requests = cloud
      .ofType("aws:appautoscaling/policy:Policy")
      .filter((p) => p.inputs["targetTrackingScalingPolicyConfiguration"].predefinedMetricSpecification.predefinedMetricType === "ALBRequestCountPerTarget");
    expect(requests.map((p) => [p.inputs["resourceId"], p.inputs["targetTrackingScalingPolicyConfiguration"].targetValue])).toEqual([
      ["service/inventory-prod/edge", 48000],
    ]);
    expect(cloud.ofType(ecsService)).toHaveLength(5);
  });
});
