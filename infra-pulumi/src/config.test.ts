import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { loadPlatformSettings } from "./config.js";
import { project, stackConfig } from "./testing/mock-cloud.js";

const image = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/inventory-platform:1.0.0";

function settingsOf(config: Record<string, string>) {
  pulumi.runtime.setAllConfig(config);
  return loadPlatformSettings(new pulumi.Config(project));
}

describe("loadPlatformSettings", () => {
  test("reads the dev stack: one small task each, single-AZ database, one NAT gateway", () => {
    const dev = settingsOf(stackConfig("dev", { [`${project}:image`]: image }));
    expect(dev).toMatchObject({
      environment: "dev",
      image,
      serviceDomain: "inventory.internal",
      tasks: { min: 1, cpu: "256", memory: "512" },
      database: { multiAz: false },
      natGatewayPerZone: false,
      certificateArn: undefined,
    });
  });

  test("reads the prod stack: two or more larger tasks, Multi-AZ database, NAT per zone", () => {
    const prod = settingsOf(stackConfig("prod", { [`${project}:image`]: image }));
    expect(prod.tasks.min).toBeGreaterThanOrEqual(2);
    expect(prod).toMatchObject({ environment: "prod", database: { multiAz: true }, cache: { nodes: 2 }, natGatewayPerZone: true });
  });

  test("requires an image, naming the key to set", () => {
    expect(() => settingsOf(stackConfig("dev"))).toThrow(/inventory-platform:image/);
  });

  test("rejects fewer maximum than minimum tasks", () => {
    const config = stackConfig("prod", { [`${project}:image`]: image, [`${project}:maxTasks`]: "1" });
    expect(() => settingsOf(config)).toThrow(/maxTasks \(1\) must be at least inventory-platform:minTasks \(2\)/);
  });

  test("rejects an environment other than dev or prod", () => {
    const config = stackConfig("dev", { [`${project}:image`]: image, [`${project}:environment`]: "staging" });
    expect(() => settingsOf(config)).toThrow(/inventory-platform:environment/);
  });
});
