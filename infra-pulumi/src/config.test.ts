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

  test("defaults the first admin to admin@<service domain> and one signing key", () => {
    const dev = settingsOf(stackConfig("dev", { [`${project}:image`]: image }));
    expect(dev.admin).toEqual({ username: "admin", email: "admin@inventory.internal" });
    expect(dev.signingKeys).toEqual(["initial"]);
  });

  test("reads the first admin and the signing keys from the stack", () => {
    const config = stackConfig("prod", {
      [`${project}:image`]: image,
      [`${project}:adminUsername`]: "ops",
      [`${project}:adminEmail`]: "ops@example.com",
      [`${project}:signingKeys`]: '["second","initial"]',
    });
    expect(settingsOf(config)).toMatchObject({ admin: { username: "ops", email: "ops@example.com" }, signingKeys: ["second", "initial"] });
  });

  test("rejects an admin username the user service would refuse", () => {
    const config = stackConfig("dev", { [`${project}:image`]: image, [`${project}:adminUsername`]: "Root User" });
    expect(() => settingsOf(config)).toThrow(/inventory-platform:adminUsername/);
  });

  test.each(["[]", '["initial","initial"]', '["Has Space"]', '"initial"'])("rejects signingKeys %s", (keys) => {
    const config = stackConfig("dev", { [`${project}:image`]: image, [`${project}:signingKeys`]: keys });
    expect(() => settingsOf(config)).toThrow(/inventory-platform:signingKeys/);
  });
});
