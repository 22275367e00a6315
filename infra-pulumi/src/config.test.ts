import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { loadPlatformSettings } from "./config.js";
import { project, publicEndpoint, type Stack, stackConfig } from "./testing/mock-cloud.js";

const image = `123456789012.dkr.ecr.eu-central-1.amazonaws.com/inventory-platform@sha256:${"0f".repeat(32)}`;

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

  test("builds the image itself when none is configured, for x86-64 tasks unless told otherwise", () => {
    expect(settingsOf(stackConfig("dev"))).toMatchObject({ image: undefined, cpuArchitecture: "X86_64" });
    expect(settingsOf(stackConfig("dev", { [`${project}:cpuArchitecture`]: "ARM64" })).cpuArchitecture).toBe("ARM64");
  });

  test.each([
    ["a tag alone", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/inventory-platform:1.0.0"],
    ["no tag or digest", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/inventory-platform"],
    ["a short digest", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/inventory-platform@sha256:abc123"],
    ["another algorithm", `registry.example.com/inventory@sha512:${"0f".repeat(64)}`],
  ])("rejects an image with %s: it must be pinned by digest", (_, unpinned) => {
    expect(() => settingsOf(stackConfig("dev", { [`${project}:image`]: unpinned }))).toThrow(/inventory-platform:image must be pinned by digest/);
  });

  test("keeps only the digest of an image given with tag and digest", () => {
    const digest = `sha256:${"0f".repeat(32)}`;
    const tagged = `localhost:5000/team/inventory:1.2.3@${digest}`;
    expect(settingsOf(stackConfig("dev", { [`${project}:image`]: tagged })).image).toBe(`localhost:5000/team/inventory@${digest}`);
    expect(settingsOf(stackConfig("dev", { [`${project}:image`]: image })).image).toBe(image);
  });

  test("sizes every process at the stack's defaults unless perProcess says otherwise", () => {
    const dev = settingsOf(stackConfig("dev"));
    for (const name of ["edge", "warehouse", "inventory", "reservation", "user"] as const) {
      expect(dev.sizes[name]).toEqual({ cpu: "256", memory: "512", tasks: { min: 1, max: 2 } });
    }
    expect(dev.migrateSize).toEqual({ cpu: "256", memory: "512" });
    expect(dev.edgeRequestsPerTarget).toBe(6000);
    const prod = settingsOf(stackConfig("prod", publicEndpoint("prod")));
    expect(prod.sizes.edge).toEqual({ cpu: "1024", memory: "2048", tasks: { min: 2, max: 10 } });
    expect(prod.edgeRequestsPerTarget).toBe(24000);
  });

  test("defaults a stack without taskCpu and taskMemory to 256 CPU units and 512 MiB", () => {
    const config = stackConfig("dev");
    delete config[`${project}:taskCpu`];
    delete config[`${project}:taskMemory`];
    expect(settingsOf(config).sizes.user).toMatchObject({ cpu: "256", memory: "512" });
  });

  test("reads an explicit edge request target", () => {
    expect(settingsOf(stackConfig("dev", { [`${project}:edgeRequestsPerTarget`]: "1500" })).edgeRequestsPerTarget).toBe(1500);
  });

  test.each([
    ["a process the catalog does not know", { billing: { cpu: "256" } }, /perProcess.billing: no such process/],
    ["an unknown setting", { edge: { cpus: "256" } }, /perProcess.edge: unknown cpus/],
    ["task counts for the migration", { migrate: { minTasks: 2 } }, /perProcess.migrate: unknown minTasks/],
    ["a CPU size Fargate does not offer", { user: { cpu: "384" } }, /perProcess.user: cpu must be one of/],
    [
      "memory Fargate does not offer with that CPU",
      { user: { cpu: "256", memory: "4096" } },
      /perProcess.user: Fargate offers 256 CPU units with 512–2048 MiB/,
    ],
    ["fewer maximum than minimum tasks", { edge: { minTasks: 5, maxTasks: 3 } }, /perProcess.edge: minTasks \(5\) and maxTasks \(3\)/],
  ])("rejects perProcess with %s", (_, perProcess, message) => {
    expect(() => settingsOf(stackConfig("dev", { [`${project}:perProcess`]: JSON.stringify(perProcess) }))).toThrow(message);
  });

  test("rejects a stack size Fargate does not offer", () => {
    expect(() => settingsOf(stackConfig("dev", { [`${project}:taskMemory`]: "700" }))).toThrow(/taskCpu\/taskMemory: Fargate offers 256 CPU units/);
  });

  test("rejects a CPU architecture Fargate does not run", () => {
    expect(() => settingsOf(stackConfig("dev", { [`${project}:cpuArchitecture`]: "RISCV" }))).toThrow(/inventory-platform:cpuArchitecture/);
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
