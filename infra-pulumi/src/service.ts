import * as pulumi from "@pulumi/pulumi";
import type { CpuArchitecture } from "./config.js";
import { serviceCommand, serviceHealthCheck } from "@inv/service-catalog";
import { rdsCaBundlePath } from "./data.js";
import { FargateService } from "./fargate.js";
import { grpcTarget, grpcTargets, type ServiceProcess } from "./processes.js";
import type { StoredSecret } from "./secrets.js";

/** What every process shares: where it runs and how it is sized. */
export interface ProcessPlacement {
  /** `<repository>@sha256:<digest>`. */
  image: pulumi.Input<string>;
  /** The ECR repository the image is pulled from; undefined for an image outside ECR. */
  imageRepositoryArn: pulumi.Input<string> | undefined;
  cpuArchitecture: CpuArchitecture;
  cpu: string;
  memory: string;
  tasks: { min: number; max: number };
  clusterArn: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  namespaceId: pulumi.Input<string>;
  serviceDomain: string;
  subnetIds: pulumi.Input<string>[];
  /** Stack-wide prefix of names that are unique per account, e.g. `inventory-dev`. */
  namePrefix: string;
  logRetentionDays: number;
  logLevel: string;
  /** Every ECS service is created or updated only after these: the database migration. */
  startAfter: pulumi.Resource[];
}

export interface GrpcServiceArgs extends ProcessPlacement {
  process: ServiceProcess;
  securityGroupId: pulumi.Input<string>;
  /** DATABASE_URL: this service's own role; exactly when the catalog gives it a `databaseSchema`. */
  databaseUrlSecret: StoredSecret | undefined;
  redisUrlSecret: StoredSecret;
  /** SERVICE_SECRET: signs this process's service identity and checks its callers'. */
  serviceSecret: StoredSecret;
  /** What this process alone is told (the user service: its first admin and signing keys). */
  own?: { environment?: Record<string, string>; secrets?: Record<string, StoredSecret> };
}

/**
 * One gRPC service process (warehouse, inventory, reservation, user) on Fargate, reachable at
 * `dns:///<name>.<service domain>:<port>` and probed through `grpc.health.v1` like in compose.
 */
export class GrpcService extends pulumi.ComponentResource {
  /** The grpc-js target other processes use to call this one. */
  readonly target: string;

  constructor(name: string, args: GrpcServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:GrpcService", name, {}, opts);
    const { process } = args;
    this.target = grpcTarget(process, args.serviceDomain);
    const ownsData = process.databaseSchema !== null;
    if (ownsData !== (args.databaseUrlSecret !== undefined)) {
      throw new Error(`${process.name} ${ownsData ? "keeps data and needs its own DATABASE_URL" : "keeps no data: it gets no DATABASE_URL"}`);
    }

    new FargateService(
      process.name,
      {
        ...args,
        processName: process.name,
        container: {
          command: serviceCommand(process, Number(args.memory)),
          port: process.grpcPort,
          environment: {
            GRPC_HOST: "0.0.0.0",
            GRPC_PORT: String(process.grpcPort),
            LOG_LEVEL: args.logLevel,
            // Services call each other (every one asks the user service, USER_GRPC_TARGET, who its
            // callers are and ships its audit records there): each finds every other process the way
            // the edge does, and is not told where it is itself.
            ...Object.fromEntries(grpcTargets(args.serviceDomain, process.name).map((t) => [t.name, t.value])),
            // The RDS CA, so that `sslmode=verify-full` can check the server (the image holds the bundle).
            ...(ownsData ? { NODE_EXTRA_CA_CERTS: rdsCaBundlePath } : {}),
            ...args.own?.environment,
          },
          secrets: {
            ...(args.databaseUrlSecret ? { DATABASE_URL: args.databaseUrlSecret } : {}),
            REDIS_URL: args.redisUrlSecret,
            SERVICE_SECRET: args.serviceSecret,
            ...args.own?.secrets,
          },
          healthCheck: ["CMD", ...serviceHealthCheck(process)],
        },
      },
      { parent: this },
    );

    this.registerOutputs({ target: this.target });
  }
}
