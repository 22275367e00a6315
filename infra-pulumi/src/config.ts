import { edge, processNames, type ProcessName } from "@inv/service-catalog";
import * as pulumi from "@pulumi/pulumi";

export type Environment = "dev" | "staging" | "prod";
export const environments: readonly Environment[] = ["dev", "staging", "prod"];

export type CpuArchitecture = "X86_64" | "ARM64";
export const cpuArchitectures: readonly CpuArchitecture[] = ["X86_64", "ARM64"];

/** An image reference pinned to one content: `name[:tag]@sha256:<64 hex>`. */
const pinnedImage = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

/** Fargate CPU units; memory must fit the size (see the Fargate task size table). */
const fargateCpu = ["256", "512", "1024", "2048", "4096"];

/** The memory sizes (MiB) Fargate offers with each CPU size. */
export function fargateMemoryFor(cpu: string): number[] {
  const range = (from: number, to: number) => Array.from({ length: (to - from) / 1024 + 1 }, (_, i) => from + i * 1024);
  switch (cpu) {
    case "256":
      return [512, 1024, 2048];
    case "512":
      return range(1024, 4096);
    case "1024":
      return range(2048, 8192);
    case "2048":
      return range(4096, 16384);
    case "4096":
      return range(8192, 30720);
    default:
      return [];
  }
}

/** The processes that run as ECS services and scale: every service process and the edge. */
export type ScaledProcess = ProcessName | typeof edge.name;
export const scaledProcesses: readonly ScaledProcess[] = [...processNames, edge.name];

export interface TaskSize {
  readonly cpu: string;
  readonly memory: string;
}

export interface ProcessSize extends TaskSize {
  /** Tasks autoscaling keeps at least (and the service starts with) and at most. */
  readonly tasks: { readonly min: number; readonly max: number };
}

/** Unless the stack says otherwise: a quarter vCPU and 512 MiB. */
export const defaultTaskSize: TaskSize = { cpu: "256", memory: "512" };
/** The edge scales out above this many requests a minute per task for every 256 CPU units of its size. */
export const defaultEdgeRequestsPer256Cpu = 6000;

/** Everything a stack may vary, read once from `Pulumi.<stack>.yaml` and checked before any resource exists. */
export interface PlatformSettings {
  readonly environment: Environment;
  /**
   * An image built and pushed elsewhere (CI), pinned by digest (`<repository>@sha256:<64 hex>`); every process runs
   * it. Unset: the program builds the repository's Dockerfile and pushes it to the stack's own ECR repository.
   */
  readonly image: string | undefined;
  /** CPU architecture of every task, and so the platform the image is built for. */
  readonly cpuArchitecture: CpuArchitecture;
  readonly logLevel: string;
  readonly logRetentionDays: number;
  /** Private DNS zone the services register in, e.g. `inventory.internal`. */
  readonly serviceDomain: string;
  /** The stack's defaults for every process: task counts (`minTasks`, `maxTasks`) and size (`taskCpu`, `taskMemory`). */
  readonly tasks: { readonly min: number; readonly max: number; readonly cpu: string; readonly memory: string };
  /** Each ECS service's size and task counts: the defaults above, overridden per process by `perProcess`. */
  readonly sizes: Readonly<Record<ScaledProcess, ProcessSize>>;
  /** The one-off migration task's size (`perProcess.migrate`: cpu and memory only). */
  readonly migrateSize: TaskSize;
  /** The edge's target of ALBRequestCountPerTarget: requests a minute per task it scales to keep. */
  readonly edgeRequestsPerTarget: number;
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
  const stackSize = checkSize("inventory-platform:taskCpu/taskMemory", {
    cpu: config.get("taskCpu") ?? defaultTaskSize.cpu,
    memory: config.get("taskMemory") ?? defaultTaskSize.memory,
  });
  const { sizes, migrateSize } = loadSizes(config, { ...stackSize, tasks: { min: minTasks, max: maxTasks } });
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
    image: loadImage(config),
    cpuArchitecture: config.get<CpuArchitecture>("cpuArchitecture", { allowedValues: [...cpuArchitectures] }) ?? "X86_64",
    logLevel: config.get("logLevel", { allowedValues: ["fatal", "error", "warn", "info", "debug", "trace"] }) ?? "info",
    logRetentionDays: config.getNumber("logRetentionDays", { min: 1 }) ?? 30,
    serviceDomain,
    tasks: { min: minTasks, max: maxTasks, ...stackSize },
    sizes,
    migrateSize,
    edgeRequestsPerTarget: config.getNumber("edgeRequestsPerTarget", { min: 1 }) ?? (defaultEdgeRequestsPer256Cpu * Number(sizes[edge.name].cpu)) / 256,
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

/** A Fargate task size: a CPU size Fargate offers, and a memory size it offers with that CPU. */
function checkSize(key: string, size: { cpu: unknown; memory: unknown }): TaskSize {
  const cpu = String(size.cpu);
  const memory = String(size.memory);
  if (!fargateCpu.includes(cpu)) throw new Error(`${key}: cpu must be one of ${fargateCpu.join(", ")} (got ${JSON.stringify(size.cpu)})`);
  const offered = fargateMemoryFor(cpu);
  if (!offered.includes(Number(memory)) || !/^\d+$/.test(memory)) {
    throw new Error(
      `${key}: Fargate offers ${cpu} CPU units with ${offered[0]}–${offered.at(-1)} MiB memory (${offered.join(", ")}), not ${JSON.stringify(size.memory)}`,
    );
  }
  return { cpu, memory };
}

interface ProcessOverride {
  cpu?: string | number;
  memory?: string | number;
  minTasks?: number;
  maxTasks?: number;
}

/**
 * `perProcess`: for any service process or the edge, cpu, memory, minTasks and maxTasks over the stack's defaults;
 * for `migrate`, cpu and memory. Every value is checked: a name the catalog does not know, or a size Fargate does
 * not offer, stops the program before anything changes.
 */
function loadSizes(config: pulumi.Config, defaults: ProcessSize): { sizes: Record<ScaledProcess, ProcessSize>; migrateSize: TaskSize } {
  const overrides = config.getObject<Record<string, ProcessOverride>>("perProcess") ?? {};
  if (typeof overrides !== "object" || Array.isArray(overrides)) throw new Error("inventory-platform:perProcess must map process names to settings");
  const known = [...scaledProcesses, "migrate"];
  for (const [name, override] of Object.entries(overrides)) {
    if (!known.includes(name)) throw new Error(`inventory-platform:perProcess.${name}: no such process (known: ${known.join(", ")})`);
    const allowed = name === "migrate" ? ["cpu", "memory"] : ["cpu", "memory", "minTasks", "maxTasks"];
    const unknown = Object.keys(override ?? {}).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) throw new Error(`inventory-platform:perProcess.${name}: unknown ${unknown.join(", ")} (allowed: ${allowed.join(", ")})`);
  }
  const sizeOf = (name: string, base: TaskSize): TaskSize => {
    const override = overrides[name] ?? {};
    return checkSize(`inventory-platform:perProcess.${name}`, { cpu: override.cpu ?? base.cpu, memory: override.memory ?? base.memory });
  };
  const sizes = Object.fromEntries(
    scaledProcesses.map((name): [ScaledProcess, ProcessSize] => {
      const override = overrides[name] ?? {};
      const min = override.minTasks ?? defaults.tasks.min;
      const max = override.maxTasks ?? defaults.tasks.max;
      if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 100 || max < min) {
        throw new Error(`inventory-platform:perProcess.${name}: minTasks (${min}) and maxTasks (${max}) must be whole numbers, 1 ≤ minTasks ≤ maxTasks ≤ 100`);
      }
      return [name, { ...sizeOf(name, defaults), tasks: { min, max } }];
    }),
  ) as Record<ScaledProcess, ProcessSize>;
  return { sizes, migrateSize: sizeOf("migrate", defaults) };
}

/**
 * A configured image must name one content: a tag can be moved (or, with ECR's immutable tags, at least means
 * something else in another repository), and ECS would resolve it again whenever it starts a task. A tag before
 * the digest is dropped: the digest alone says what runs.
 */
function loadImage(config: pulumi.Config): string | undefined {
  const image = config.get("image");
  if (image === undefined) return undefined;
  if (!pinnedImage.test(image)) {
    throw new Error(
      `inventory-platform:image must be pinned by digest, <repository>@sha256:<64 hex digits> (got ${JSON.stringify(image)}); ` +
        "or leave it unset and the stack builds and pushes the image itself",
    );
  }
  const [name, digest] = image.split("@") as [string, string];
  const lastSlash = name.lastIndexOf("/");
  const tagAt = name.indexOf(":", lastSlash + 1);
  return `${tagAt < 0 ? name : name.slice(0, tagAt)}@${digest}`;
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
