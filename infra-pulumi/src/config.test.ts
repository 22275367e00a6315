import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { loadPlatformSettings } from "./config.js";
import { project, publicEndpoint, type Stack, stackConfig } from "./testing/mock-cloud.js";

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
    const prod = settingsOf(stackConfig("prod", { [`${project}:image`]: image, ...publicEndpoint("prod") }));
    expect(prod.tasks.min).toBeGreaterThanOrEqual(2);
    expect(prod).toMatchObject({ environment: "prod", database: { multiAz: true }, cache: { nodes: 2 }, natGatewayPerZone: true });
  });

  test("requires an image, naming the key to set", () => {
    expect(() => settingsOf(stackConfig("dev"))).toThrow(/inventory-platform:image/);
  });

  test("rejects fewer maximum than minimum tasks", () => {
    const config = stackConfig("prod", { [`${project}:image`]: image, ...publicEndpoint("prod"), [`${project}:maxTasks`]: "1" });
    expect(() => settingsOf(config)).toThrow(/maxTasks \(1\) must be at least inventory-platform:minTasks \(2\)/);
  });

  test("rejects an environment other than dev, staging or prod", () => {
    const config = stackConfig("dev", { [`${project}:image`]: image, [`${project}:environment`]: "qa" });
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
      ...publicEndpoint("prod"),
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

  test("reads the staging stack: HTTPS on its domain, WAF, kept data, between dev and prod in size", () => {
    const staging = settingsOf(stackConfig("staging", { [`${project}:image`]: image, ...publicEndpoint("staging") }));
    expect(staging).toMatchObject({
      environment: "staging",
      tasks: { min: 2, max: 4, cpu: "512" },
      domain: { name: "staging.inventory.example.com", hostedZoneId: "Z0EXAMPLE123" },
      waf: { rateLimitPer5Minutes: 2000 },
      keepData: true,
    });
  });

  test("leaves dev on HTTP without WAF, keeping no data", () => {
    const dev = settingsOf(stackConfig("dev", { [`${project}:image`]: image }));
    expect(dev).toMatchObject({ domain: undefined, waf: undefined, keepData: false });
  });

  test.each(["staging", "prod"] as const)("refuses to build %s without a certificate", (stack) => {
    const config = stackConfig(stack, { [`${project}:image`]: image, ...publicEndpoint(stack) });
    delete config[`${project}:certificateArn`];
    expect(() => settingsOf(config)).toThrow(`the ${stack} stack serves HTTPS on its own domain: set inventory-platform:certificateArn`);
  });

  test("refuses to build prod without a domain and its hosted zone, naming both keys", () => {
    const config = stackConfig("prod", {
      [`${project}:image`]: image,
      [`${project}:certificateArn`]: publicEndpoint("prod")[`${project}:certificateArn`] ?? "",
    });
    expect(() => settingsOf(config)).toThrow(/set inventory-platform:domainName, inventory-platform:hostedZoneId/);
  });

  test("refuses a domain without a certificate, even in dev", () => {
    const config = stackConfig("dev", {
      [`${project}:image`]: image,
      [`${project}:domainName`]: "dev.example.com",
      [`${project}:hostedZoneId`]: "Z0EXAMPLE123",
    });
    expect(() => settingsOf(config)).toThrow(/needs inventory-platform:certificateArn/);
  });

  test.each([
    ["one zone", '["eu-central-1a"]'],
    ["a repeated zone", '["eu-central-1a","eu-central-1a"]'],
    ["a zone of another region", '["eu-west-1a","eu-central-1b"]'],
  ])("rejects availabilityZones with %s", (_, zones) => {
    const config = stackConfig("dev", { [`${project}:image`]: image, [`${project}:availabilityZones`]: zones });
    expect(() => settingsOf(config)).toThrow(/inventory-platform:availabilityZones/);
  });

  test.each(["dev", "staging", "prod"] as Stack[])("guards the %s stack: one allowed account, default tags, pinned zones", (stack) => {
    const config = stackConfig(stack);
    expect(JSON.parse(config["aws:allowedAccountIds"] ?? "null")).toEqual([expect.stringMatching(/^\d{12}$/)]);
    expect(JSON.parse(config["aws:defaultTags"] ?? "null")).toEqual({ tags: { project: "inventory-platform", environment: stack, "managed-by": "pulumi" } });
    expect(JSON.parse(config[`${project}:availabilityZones`] ?? "null")).toEqual(["eu-central-1a", "eu-central-1b"]);
  });

  test("gives every stack its own account", () => {
    const accounts = (["dev", "staging", "prod"] as Stack[]).map((stack) => stackConfig(stack)["aws:allowedAccountIds"]);
    expect(new Set(accounts).size).toBe(3);
  });
});
