import * as pulumi from "@pulumi/pulumi";
import { serviceCommand, serviceHealthCheck } from "@inv/service-catalog";
import { FargateService } from "./fargate.js";
import { grpcTarget, grpcTargets, type ServiceProcess } from "./processes.js";

/** What every process shares: where it runs and how it is sized. */
export interface ProcessPlacement {
  image: string;
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
}

export interface GrpcServiceArgs extends ProcessPlacement {
  process: ServiceProcess;
  securityGroupId: pulumi.Input<string>;
  databaseUrlSecretArn: pulumi.Input<string>;
  redisUrlSecretArn: pulumi.Input<string>;
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

    new FargateService(
      process.name,
      {
        ...args,
        processName: process.name,
        container: {
          command: serviceCommand(process),
          port: process.grpcPort,
          environment: {
            GRPC_HOST: "0.0.0.0",
            GRPC_PORT: String(process.grpcPort),
            LOG_LEVEL: args.logLevel,
            // Services will call each other; they find their peers the way the edge does.
            ...Object.fromEntries(grpcTargets(args.serviceDomain).map((t) => [t.name, t.value])),
          },
          secrets: { DATABASE_URL: args.databaseUrlSecretArn, REDIS_URL: args.redisUrlSecretArn },
          healthCheck: ["CMD", ...serviceHealthCheck(process)],
        },
      },
      { parent: this },
    );

    this.registerOutputs({ target: this.target });
  }
}
