import * as pulumi from "@pulumi/pulumi";

export type Environment = "dev" | "staging" | "prod";
export const environments: readonly Environment[] = ["dev", "staging", "prod"];

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
  /**
   * The public name of the platform, an alias record in `hostedZoneId` pointing at the load balancer.
   * Required (with the certificate) in staging and prod: clients must meet a name the certificate covers.
   */
  readonly domain: { readonly name: string; readonly hostedZoneId: string } | undefined;
  /** Zones the subnets are laid in, pinned in the stack so a new zone in the region never moves a subnet. */
  readonly availabilityZones: readonly string[];
  /** Staging and prod: a WAF web ACL with AWS managed rules and a per-address rate limit in front of the ALB. */
  readonly waf: { readonly rateLimitPer5Minutes: number } | undefined;
  /** Days the load balancer's access logs are kept in S3. */
  readonly accessLogRetentionDays: number;
  /** Staging and prod keep their data: Pulumi `protect`, deletion protection, final snapshots, longer backups. */
  readonly keepData: boolean;
  /** The first admin, created by the user service at its first start; the password is generated. */
  readonly admin: { readonly username: string; readonly email: string };
  /** Names of the generated access-token signing keys, in AUTH_SIGNING_KEYS order: the first signs. */
  readonly signingKeys: readonly string[];
}

/** The user service's rule for usernames (services/user/src/domain/rules.ts), checked before anything exists. */
const username = /^[a-z0-9._-]{3,64}$/;
const signingKeyName = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const defaultSigningKeys = ["initial"];

/** Enough zones for one subnet of each tier per zone (see `subnetCidrs` in network.ts). */
export const zoneCount = 2;
const hostname = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function loadPlatformSettings(config = new pulumi.Config(), awsConfig = new pulumi.Config("aws")): PlatformSettings {
  const environment = config.require<Environment>("environment", { allowedValues: [...environments] });
  const exposed = environment !== "dev";
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
  const certificateArn = config.get("certificateArn", { pattern: /^arn:aws[a-z-]*:acm:/ });
  const domainName = config.get("domainName", { pattern: hostname });
  const hostedZoneId = config.get("hostedZoneId", { pattern: /^Z[A-Z0-9]{1,32}$/ });
  if (exposed) {
    // Staging and prod face real users: no plain HTTP, no load balancer DNS name in clients.
    const missing = Object.entries({ certificateArn, domainName, hostedZoneId })
      .filter(([, value]) => value === undefined)
      .map(([key]) => `inventory-platform:${key}`);
    if (missing.length > 0) {
      throw new Error(`the ${environment} stack serves HTTPS on its own domain: set ${missing.join(", ")} (pulumi config set <key> <value>)`);
    }
  }
  if ((domainName === undefined) !== (hostedZoneId === undefined)) {
    throw new Error("inventory-platform:domainName and inventory-platform:hostedZoneId go together: the record for the name lives in that zone");
  }
  if (domainName !== undefined && certificateArn === undefined) {
    throw new Error(
      `inventory-platform:domainName ${domainName} needs inventory-platform:certificateArn: the platform is served on its own name only over HTTPS`,
    );
  }
  const availabilityZones = loadZones(config, awsConfig.get("region"));
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
    certificateArn,
    domain: domainName !== undefined && hostedZoneId !== undefined ? { name: domainName, hostedZoneId } : undefined,
    availabilityZones,
    waf:
      (config.getBoolean("waf") ?? exposed) ? { rateLimitPer5Minutes: config.getNumber("wafRateLimit", { min: 10, max: 2_000_000_000 }) ?? 2000 } : undefined,
    accessLogRetentionDays: config.getNumber("accessLogRetentionDays", { min: 1 }) ?? 90,
    keepData: exposed,
    admin: { username: adminUsername, email: config.get("adminEmail", { pattern: /^[^\s@]+@[^\s@]+$/ }) ?? `${adminUsername}@${serviceDomain}` },
    signingKeys,
  };
}

function loadZones(config: pulumi.Config, region: string | undefined): string[] {
  const zones = config.requireObject<string[]>("availabilityZones");
  if (
    !Array.isArray(zones) ||
    zones.length !== zoneCount ||
    zones.some((z) => typeof z !== "string" || !/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(z)) ||
    new Set(zones).size !== zones.length
  ) {
    throw new Error(
      `inventory-platform:availabilityZones must list ${zoneCount} distinct zones, e.g. ["eu-central-1a","eu-central-1b"] (got ${JSON.stringify(zones)})`,
    );
  }
  const foreign = region === undefined ? [] : zones.filter((z) => !z.startsWith(region) || !/^[a-z]$/.test(z.slice(region.length)));
  if (foreign.length > 0) throw new Error(`inventory-platform:availabilityZones ${foreign.join(", ")} not in aws:region ${region}`);
  return zones;
}
