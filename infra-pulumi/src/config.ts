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
}

export function loadPlatformSettings(config = new pulumi.Config()): PlatformSettings {
  const environment = config.require<Environment>("environment", { allowedValues: ["dev", "prod"] });
  const minTasks = config.requireNumber("minTasks", { min: 1, max: 50 });
  const maxTasks = config.requireNumber("maxTasks", { min: 1, max: 100 });
  if (maxTasks < minTasks) {
    throw new Error(`inventory-platform:maxTasks (${maxTasks}) must be at least inventory-platform:minTasks (${minTasks})`);
  }
  return {
    environment,
    image: config.require("image"),
    logLevel: config.get("logLevel", { allowedValues: ["fatal", "error", "warn", "info", "debug", "trace"] }) ?? "info",
    logRetentionDays: config.getNumber("logRetentionDays", { min: 1 }) ?? 30,
    serviceDomain: config.get("serviceDomain") ?? "inventory.internal",
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
  };
}
