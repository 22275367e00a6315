import { processes } from "@inv/service-catalog";
import { beforeAll, describe, expect, test } from "vitest";
import { settled, startMockCloud, type MockCloud } from "./testing/mock-cloud.js";

const postgres = "aws:rds/instance:Instance";
const redis = "aws:elasticache/replicationGroup:ReplicationGroup";
const secretVersion = "aws:secretsmanager/secretVersion:SecretVersion";

/** A value `pulumi.secret` wrapped, as it reaches the engine: encrypted in state, masked in output. */
const secretValue = (input: unknown): string => {
  expect(input).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" });
  return (input as { value: string }).value;
};

describe("DataStores", () => {
  let cloud: MockCloud;

  beforeAll(async () => {
    cloud = await startMockCloud({});
    const { DataStores } = await import("./data.js");
    const shared = {
      subnetIds: ["subnet-db-a", "subnet-db-b"],
      databaseSecurityGroupId: "sg-database",
      cacheSecurityGroupId: "sg-cache",
      databaseOwners: processes.filter((p) => p.databaseSchema !== null),
    };
    new DataStores("dev", {
      ...shared,
      database: { instanceClass: "db.t4g.micro", allocatedStorageGb: 20, multiAz: false },
      cache: { nodeType: "cache.t4g.micro", nodes: 1 },
      keepData: false,
    });
    new DataStores("prod", {
      ...shared,
      database: { instanceClass: "db.m7g.large", allocatedStorageGb: 100, multiAz: true },
      cache: { nodeType: "cache.m7g.large", nodes: 2 },
      keepData: true,
    });
    await settled();
  });

  test("runs Postgres 16 in the database subnets behind the database group only, never public", () => {
    const db = cloud.named(postgres, "dev-postgres").inputs;
    expect(db).toMatchObject({
      engine: "postgres",
      engineVersion: "16",
      port: 5432,
      dbName: "inventory",
      publiclyAccessible: false,
      storageEncrypted: true,
      vpcSecurityGroupIds: ["sg-database"],
    });
    const subnetGroup = cloud.named("aws:rds/subnetGroup:SubnetGroup", "dev-database");
    expect(db["dbSubnetGroupName"]).toBe(subnetGroup.name);
    expect(subnetGroup.inputs["subnetIds"]).toEqual(["subnet-db-a", "subnet-db-b"]);
  });

  test("makes the database Multi-AZ in prod and single-AZ in dev", () => {
    expect(cloud.named(postgres, "prod-postgres").inputs["multiAz"]).toBe(true);
    expect(cloud.named(postgres, "dev-postgres").inputs["multiAz"]).toBe(false);
  });

  test("protects production data and lets dev data go", () => {
    expect(cloud.named(postgres, "prod-postgres").inputs).toMatchObject({
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "prod-postgres-final",
    });
    expect(cloud.named(postgres, "dev-postgres").inputs).toMatchObject({ deletionProtection: false, skipFinalSnapshot: true });
  });

  test("runs Postgres with its own parameter group: TLS forced, slow statements logged", () => {
    for (const stack of ["dev", "prod"]) {
      const group = cloud.named("aws:rds/parameterGroup:ParameterGroup", `${stack}-postgres16`);
      expect(group.inputs["family"]).toBe("postgres16");
      expect(group.inputs["parameters"]).toEqual(
        expect.arrayContaining([
          { name: "rds.force_ssl", value: "1" },
          { name: "log_min_duration_statement", value: "500" },
        ]),
      );
      expect(cloud.named(postgres, `${stack}-postgres`).inputs["parameterGroupName"]).toBe(group.inputs["name"] ?? group.name);
    }
  });

  test("turns on Performance Insights and exports the postgresql log to CloudWatch", () => {
    for (const stack of ["dev", "prod"]) {
      expect(cloud.named(postgres, `${stack}-postgres`).inputs).toMatchObject({
        performanceInsightsEnabled: true,
        performanceInsightsRetentionPeriod: 7,
        enabledCloudwatchLogsExports: ["postgresql"],
      });
    }
  });

  test("replicates Redis with automatic failover in prod, over TLS with an auth token in both", () => {
    expect(cloud.named(redis, "prod-redis").inputs).toMatchObject({
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
    });
    expect(cloud.named(redis, "dev-redis").inputs).toMatchObject({ numCacheClusters: 1, automaticFailoverEnabled: false });
    for (const stack of ["dev", "prod"]) {
      expect(cloud.named(redis, `${stack}-redis`).inputs).toMatchObject({
        engine: "redis",
        port: 6379,
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        securityGroupIds: ["sg-cache"],
      });
    }
  });

  test("generates the credentials and stores the connection URLs in Secrets Manager as secrets", () => {
    const [databasePassword, cacheToken] = ["dev-database-password", "dev-cache-auth-token"].map((name) =>
      cloud.named("random:index/randomPassword:RandomPassword", name),
    );
    expect(databasePassword?.inputs).toMatchObject({ length: 40, special: false });

    const adminUrl = secretValue(cloud.named(secretVersion, "dev-database-admin-url").inputs["secretString"]);
    expect(adminUrl).toBe(
      `postgres://inventory:${secretValue(cloud.named(postgres, "dev-postgres").inputs["password"])}` +
        "@dev-postgres.rds.amazonaws.test:5432/inventory?sslmode=verify-full",
    );
    const redisUrl = secretValue(cloud.named(secretVersion, "dev-redis-url").inputs["secretString"]);
    expect(redisUrl).toBe(`rediss://:${secretValue(cloud.named(redis, "dev-redis").inputs["authToken"])}@master.dev-redis.cache.amazonaws.test:6379`);
    expect(cacheToken?.inputs).toMatchObject({ special: false });
  });

  test.each(processes.filter((p) => p.databaseSchema !== null))("gives $name its own role <schema>_service with its own password, verified TLS", (process) => {
    const password = cloud.named("random:index/randomPassword:RandomPassword", `dev-${process.name}-database-password`);
    expect(password.inputs).toMatchObject({ length: 40, special: false });
    const url = secretValue(cloud.named(secretVersion, `dev-${process.name}-database-url`).inputs["secretString"]);
    const generated = cloud.generatedSecrets().find((g) => url.includes(g));
    expect(url).toBe(`postgres://${process.databaseSchema}_service:${generated}@dev-postgres.rds.amazonaws.test:5432/inventory?sslmode=verify-full`);
    // Not the master's password, nor another service's.
    expect(generated).not.toBe(secretValue(cloud.named(postgres, "dev-postgres").inputs["password"]));
    const others = processes.filter((p) => p.databaseSchema !== null && p !== process);
    for (const other of others)
      expect(secretValue(cloud.named(secretVersion, `dev-${other.name}-database-url`).inputs["secretString"])).not.toContain(generated);
  });

  test("lets a destroyed dev secret be recreated at once but keeps prod's recoverable", () => {
    const secret = (name: string) => cloud.named("aws:secretsmanager/secret:Secret", name).inputs["recoveryWindowInDays"];
    expect(secret("dev-database-admin-url")).toBe(0);
    expect(secret("prod-database-admin-url")).toBe(30);
    expect(secret("prod-user-database-url")).toBe(30);
  });
});
