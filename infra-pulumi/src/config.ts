import * as pulumi from "@pulumi/pulumi";

export type Environment = "dev" | "prod";

/** Fargate CPU units; memory must fit the size (see the Fargate task size table). */
const fargateCpu = ["256", "512", "1024", "2048", "4096"];

/** Everything a stack may vary, read once from `Pulumi.<stack>.yaml` and checked before any resource exists. */
export interface PlatformSettings {
  readonly environment: Environment;
  /** Image of every process (ECR URI with tag or digest); `command` picks the entry point. */
  readonly image: string;
  readonly logLevel: string;
  readonly logRetentionDays: number;
  /** Private DNS zone the services register in, e.g. `inventory.internal`. */
  readonly serviceDomain: string;
  readonly tasks: { readonly min: number; readonly max: number; readonly cpu: string; readonly memory: string };
  readonly database: {
    readonly instanceClass: string;
    readonly allocatedStorageGb: number;
    readonly multiAz: boolean;
  };
  readonly cache: { readonly nodeType: string; readonly nodes: number };
  /** One NAT gateway per zone survives the loss of a zone; one in total is cheaper. */
  readonly natGatewayPerZone: boolean;
  /** ACM certificate for HTTPS on the load balancer; without it the edge is served on port 80 only. */
  readonly certificateArn: string | undefined;
  /** The first admin, created by the user service at its first start; the password is generated. */
  readonly admin: { readonly username: string; readonly email: string };
  /** Names of the generated access-token signing keys, in AUTH_SIGNING_KEYS order: the first signs. */
  readonly signingKeys: readonly string[];
}

/** The user service's rule for usernames (services/user/src/domain/rules.ts), checked before anything exists. */
const username = /^[a-z0-9._-]{3,64}$/;
const signingKeyName = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const defaultSigningKeys = ["initial"];

export function loadPlatformSettings(config = new pulumi.Config()): PlatformSettings {
  const environment = config.require<Environment>("environment", { allowedValues: ["dev", "prod"] });
  const minTasks = config.requireNumber("minTasks", { min: 1, max: 50 });
  const maxTasks = config.requireNumber("maxTasks", { min: 1, max: 100 });
  if (maxTasks < minTasks) {
    throw new Error(`inventory-platform:maxTasks (${maxTasks}) must be at least inventory-platform:minTasks (${minTasks})`);
  }
  const serviceDomain = config.get("serviceDomain") ?? "inventory.internal";
  const adminUsername = config.get("adminUsername", { pattern: username }) ?? "admin";
  const signingKeys = config.getObject<string[]>("signingKeys") ?? defaultSigningKeys;
  if (
    !Array.isArray(signingKeys) ||
    signingKeys.length === 0 ||
    signingKeys.length > 5 ||
    signingKeys.some((k) => typeof k !== "string" || !signingKeyName.test(k)) ||
    new Set(signingKeys).size !== signingKeys.length
  ) {
    throw new Error(`inventory-platform:signingKeys must list 1 to 5 distinct key names of a-z, 0-9 and "-" (got ${JSON.stringify(signingKeys)})`);
  }
  return {
    environment,
    image: config.require("image"),
    logLevel: config.get("logLevel", { allowedValues: ["fatal", "error", "warn", "info", "debug", "trace"] }) ?? "info",
    logRetentionDays: config.getNumber("logRetentionDays", { min: 1 }) ?? 30,
    serviceDomain,
    tasks: {
      min: minTasks,
      max: maxTasks,
      cpu: config.require("taskCpu", { allowedValues: fargateCpu }),
      memory: config.require("taskMemory", { pattern: /^\d+$/ }),
    },
    database: {
      instanceClass: config.require("dbInstanceClass", { pattern: /^db\./ }),
      allocatedStorageGb: config.requireNumber("dbAllocatedStorageGb", { min: 20 }),
      multiAz: config.requireBoolean("dbMultiAz"),
    },
    cache: {
      nodeType: config.require("cacheNodeType", { pattern: /^cache\./ }),
      nodes: config.requireNumber("cacheNodes", { min: 1, max: 6 }),
    },
    natGatewayPerZone: config.getBoolean("natGatewayPerZone") ?? environment === "prod",
    certificateArn: config.get("certificateArn"),
    admin: { username: adminUsername, email: config.get("adminEmail", { pattern: /^[^\s@]+@[^\s@]+$/ }) ?? `${adminUsername}@${serviceDomain}` },
    signingKeys,
  };
}
