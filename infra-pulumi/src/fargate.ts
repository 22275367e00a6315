import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StoredSecret } from "./secrets.js";

/** Scale out when the tasks' average CPU passes this share; scale in below it. */
export const targetCpuPercent = 70;

export interface ContainerSpec {
  readonly command: readonly string[];
  readonly port: number;
  /** Plain settings only: anything secret goes in `secrets`. */
  readonly environment: Readonly<Record<string, string>>;
  /** Variable name → the Secrets Manager secret holding its value, injected by ECS at start. */
  readonly secrets: Readonly<Record<string, StoredSecret>>;
  /** Exec-form health check run inside the container (`["CMD", …]`). */
  readonly healthCheck: readonly string[];
}

export interface FargateServiceArgs {
  /** Names the container, the ECS service, its Cloud Map record and its log streams. */
  processName: string;
  image: string;
  container: ContainerSpec;
  cpu: string;
  memory: string;
  tasks: { min: number; max: number };
  clusterArn: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  namespaceId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  /** Stack-wide prefix of names that are unique per account, e.g. `inventory-dev`. */
  namePrefix: string;
  logRetentionDays: number;
  /** Registers the tasks in this target group; `listener` must exist first or ECS rejects the group. */
  loadBalancer?: { targetGroupArn: pulumi.Input<string>; listener: pulumi.Resource };
}

/**
 * One process on Fargate: its logs, task definition, a role that can read only its own secrets and logs,
 * the ECS service registered in Cloud Map, and CPU target tracking between `tasks.min` and `tasks.max`.
 */
export class FargateService extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: FargateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:FargateService", name, {}, opts);
    const child = { parent: this };
    const spec = args.container;

    const logGroup = new aws.cloudwatch.LogGroup(
      name,
      {
        name: `/ecs/${args.namePrefix}/${args.processName}`,
        retentionInDays: args.logRetentionDays,
      },
      child,
    );
    const { role: executionRole, policy: executionPolicy } = this.executionRole(
      name,
      logGroup.arn,
      Object.values(spec.secrets).map((s) => s.arn),
    );
    const region = aws.getRegionOutput({}, child).region;

    const containerDefinitions = pulumi
      .output([
        {
          name: args.processName,
          image: args.image,
          command: spec.command,
          essential: true,
          portMappings: [{ containerPort: spec.port, protocol: "tcp" }],
          environment: Object.entries(spec.environment).map(([key, value]) => ({ name: key, value })),
          secrets: Object.entries(spec.secrets).map(([key, secret]) => ({ name: key, valueFrom: secret.valueFrom })),
          healthCheck: { command: spec.healthCheck, interval: 15, timeout: 10, retries: 3, startPeriod: 60 },
          // SIGTERM drains in-flight calls; give that time before SIGKILL.
          stopTimeout: 30,
          logConfiguration: {
            logDriver: "awslogs",
            options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": args.processName },
          },
        },
      ])
      .apply((definitions) => JSON.stringify(definitions));

    const taskDefinition = new aws.ecs.TaskDefinition(
      name,
      {
        family: `${args.namePrefix}-${args.processName}`,
        cpu: args.cpu,
        memory: args.memory,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        executionRoleArn: executionRole.arn,
        // No task role: the processes call no AWS API, so their tasks hold no AWS credentials.
        containerDefinitions,
      },
      { parent: this, dependsOn: [executionPolicy] },
    );

    const discovery = new aws.servicediscovery.Service(
      name,
      {
        name: args.processName,
        dnsConfig: {
          namespaceId: args.namespaceId,
          dnsRecords: [{ type: "A", ttl: 10 }],
          routingPolicy: "MULTIVALUE",
        },
        forceDestroy: true,
      },
      child,
    );

    const lb = args.loadBalancer;
    const service = new aws.ecs.Service(
      name,
      {
        name: args.processName,
        cluster: args.clusterArn,
        taskDefinition: taskDefinition.arn,
        launchType: "FARGATE",
        desiredCount: args.tasks.min,
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        networkConfiguration: { subnets: args.subnetIds, securityGroups: [args.securityGroupId], assignPublicIp: false },
        serviceRegistries: { registryArn: discovery.arn },
        loadBalancers: lb ? [{ targetGroupArn: lb.targetGroupArn, containerName: args.processName, containerPort: spec.port }] : [],
        healthCheckGracePeriodSeconds: lb ? 60 : undefined,
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
      },
      {
        parent: this,
        dependsOn: lb ? [lb.listener] : [],
        // Autoscaling owns the running count once the service exists.
        ignoreChanges: ["desiredCount"],
      },
    );
    this.serviceName = service.name;

    const scaling = new aws.appautoscaling.Target(
      name,
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${args.clusterName}/${service.name}`,
        minCapacity: args.tasks.min,
        maxCapacity: args.tasks.max,
      },
      child,
    );
    new aws.appautoscaling.Policy(
      `${name}-cpu`,
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: scaling.serviceNamespace,
        scalableDimension: scaling.scalableDimension,
        resourceId: scaling.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
          targetValue: targetCpuPercent,
          scaleOutCooldown: 60,
          scaleInCooldown: 180,
        },
      },
      child,
    );

    this.registerOutputs({ serviceName: this.serviceName });
  }

  /** The role ECS uses to pull the image, write this process's logs and read its secrets; nothing else. */
  private executionRole(name: string, logGroupArn: pulumi.Output<string>, secretArns: pulumi.Input<string>[]) {
    const role = new aws.iam.Role(
      `${name}-execution`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      },
      { parent: this },
    );
    const statements: unknown[] = [
      { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      { Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: "*" },
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${logGroupArn}:*` },
    ];
    if (secretArns.length > 0) {
      statements.push({ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns });
    }
    const policy = new aws.iam.RolePolicy(
      `${name}-execution`,
      {
        role: role.id,
        policy: pulumi.output({ Version: "2012-10-17", Statement: statements }).apply((doc) => JSON.stringify(doc)),
      },
      { parent: this },
    );
    return { role, policy };
  }
}
