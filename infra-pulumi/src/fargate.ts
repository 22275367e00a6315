import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CpuArchitecture } from "./config.js";
import { checkRollout } from "./rollout.js";
import type { StoredSecret } from "./secrets.js";

/** Scale out when the tasks' average CPU passes this share; scale in below it. */
export const targetCpuPercent = 70;

export interface ContainerSpec {
  readonly command: readonly string[];
  /** The port it serves on; none for a one-off task. */
  readonly port?: number;
  /** Plain settings only: anything secret goes in `secrets`. */
  readonly environment: Readonly<Record<string, string>>;
  /** Variable name → the Secrets Manager secret holding its value, injected by ECS at start. */
  readonly secrets: Readonly<Record<string, StoredSecret>>;
  /** Exec-form health check run inside the container (`["CMD", …]`); none for a one-off task. */
  readonly healthCheck?: readonly string[];
}

export interface FargateTaskArgs {
  /** Names the container, the task family, its log group and its log streams. */
  processName: string;
  /** `<repository>@sha256:<digest>`: one content, whatever is pushed later. */
  image: pulumi.Input<string>;
  /** The ECR repository the image is pulled from (the execution role may pull from it alone); undefined outside ECR. */
  imageRepositoryArn: pulumi.Input<string> | undefined;
  container: ContainerSpec;
  cpu: string;
  memory: string;
  cpuArchitecture: CpuArchitecture;
  /** Stack-wide prefix of names that are unique per account, e.g. `inventory-dev`. */
  namePrefix: string;
  logRetentionDays: number;
}

/** A long-running process: it serves on a port and is health-checked. */
export interface ServiceContainerSpec extends ContainerSpec {
  readonly port: number;
  readonly healthCheck: readonly string[];
}

export interface FargateServiceArgs extends FargateTaskArgs {
  container: ServiceContainerSpec;
  tasks: { min: number; max: number };
  clusterArn: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  namespaceId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  /** Registers the tasks in this target group; `listener` must exist first or ECS rejects the group. */
  loadBalancer?: { targetGroupArn: pulumi.Input<string>; listener: pulumi.Resource };
  /** What must have finished before the service is created or updated: the database migration. */
  startAfter: pulumi.Resource[];
  /**
   * Scale on the load balancer's requests per task too (ALBRequestCountPerTarget): the target group's resource
   * label (`<load balancer ARN suffix>/<target group ARN suffix>`) and the requests a minute per task to keep.
   */
  requestScaling?: { resourceLabel: pulumi.Input<string>; requestsPerTarget: number };
}

/**
 * A process's log group, its task definition and the execution role ECS starts it with, which may pull the image
 * from its repository, write this log group and read the secrets the task names, and nothing else. The task has
 * no task role: the processes call no AWS API, so they hold no AWS credentials.
 */
export function fargateTask(name: string, args: FargateTaskArgs, parent: pulumi.Resource) {
  const child = { parent };
  const spec = args.container;
  const logGroup = new aws.cloudwatch.LogGroup(
    name,
    {
      name: `/ecs/${args.namePrefix}/${args.processName}`,
      retentionInDays: args.logRetentionDays,
    },
    child,
  );
  const { role: executionRole, policy: executionPolicy } = executionRoleOf(
    name,
    logGroup.arn,
    args.imageRepositoryArn,
    Object.values(spec.secrets).map((s) => s.arn),
    parent,
  );
  const region = aws.getRegionOutput({}, child).region;

  const containerDefinitions = pulumi
    .output([
      {
        name: args.processName,
        image: args.image,
        command: spec.command,
        essential: true,
        portMappings: spec.port === undefined ? [] : [{ containerPort: spec.port, protocol: "tcp" }],
        environment: Object.entries(spec.environment).map(([key, value]) => ({ name: key, value })),
        secrets: Object.entries(spec.secrets).map(([key, secret]) => ({ name: key, valueFrom: secret.valueFrom })),
        ...(spec.healthCheck ? { healthCheck: { command: spec.healthCheck, interval: 15, timeout: 10, retries: 3, startPeriod: 60 } } : {}),
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
      // The image is built for this architecture's platform (image.ts, dockerPlatform).
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: args.cpuArchitecture },
      executionRoleArn: executionRole.arn,
      // No task role: the processes call no AWS API, so their tasks hold no AWS credentials.
      containerDefinitions,
    },
    { parent, dependsOn: [executionPolicy] },
  );
  return { taskDefinition, logGroup };
}

/** The role ECS uses to pull the image, write one log group and read the secrets of one task; nothing else. */
function executionRoleOf(
  name: string,
  logGroupArn: pulumi.Output<string>,
  repositoryArn: pulumi.Input<string> | undefined,
  secretArns: pulumi.Input<string>[],
  parent: pulumi.Resource,
) {
  const role = new aws.iam.Role(
    `${name}-execution`,
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    },
    { parent },
  );
  const statements: unknown[] = [];
  if (repositoryArn !== undefined) {
    statements.push(
      // The registry's login token is not a resource of any repository: this one action takes no narrower scope.
      { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      { Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: repositoryArn },
    );
  }
  statements.push({ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${logGroupArn}:*` });
  if (secretArns.length > 0) {
    statements.push({ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns });
  }
  const policy = new aws.iam.RolePolicy(
    `${name}-execution`,
    {
      role: role.id,
      policy: pulumi.output({ Version: "2012-10-17", Statement: statements }).apply((doc) => JSON.stringify(doc)),
    },
    { parent },
  );
  return { role, policy };
}

/**
 * One process on Fargate: its logs, task definition, a role that can read only its own secrets and logs,
 * the ECS service registered in Cloud Map (healthy tasks only), a check that the rollout reached the new
 * revision, and target tracking between `tasks.min` and `tasks.max` on CPU (and, behind a load balancer, on
 * requests per task).
 */
export class FargateService extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: FargateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:FargateService", name, {}, opts);
    const child = { parent: this };
    const spec = args.container;

    const { taskDefinition } = fargateTask(name, args, this);

    const discovery = new aws.servicediscovery.Service(
      name,
      {
        name: args.processName,
        dnsConfig: {
          namespaceId: args.namespaceId,
          dnsRecords: [{ type: "A", ttl: 10 }],
          routingPolicy: "MULTIVALUE",
        },
        // ECS reports each task's health (its container health check) to Cloud Map, and DNS answers with healthy
        // tasks only: a task failing its check stops getting calls before ECS replaces it. AWS fixes the threshold
        // at 1 (the provider warns the field is deprecated; leaving it out drops the whole block).
        healthCheckCustomConfig: { failureThreshold: 1 },
        forceDestroy: true,
      },
      // The name is fixed within the namespace: a replacement must go before its successor can take the name.
      { parent: this, deleteBeforeReplace: true },
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
        // A deployment whose tasks keep failing is stopped and rolled back to the previous revision...
        deploymentCircuitBreaker: { enable: true, rollback: true },
        // ...and `pulumi up` waits for the service to settle (failing after the provider's timeout, 20 minutes),
        // then checkRollout fails it if it settled on the previous revision.
        waitForSteadyState: true,
        networkConfiguration: { subnets: args.subnetIds, securityGroups: [args.securityGroupId], assignPublicIp: false },
        serviceRegistries: { registryArn: discovery.arn },
        loadBalancers: lb ? [{ targetGroupArn: lb.targetGroupArn, containerName: args.processName, containerPort: spec.port }] : [],
        healthCheckGracePeriodSeconds: lb ? 60 : undefined,
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
      },
      {
        parent: this,
        dependsOn: [...(lb ? [lb.listener] : []), ...args.startAfter],
        // Autoscaling owns the running count once the service exists.
        ignoreChanges: ["desiredCount"],
      },
    );
    this.serviceName = service.name;
    checkRollout(name, { clusterName: args.clusterName, serviceName: service.name, taskDefinitionArn: taskDefinition.arn, service }, this);

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
    // With two policies ECS scales out when either asks and in only when both allow it.
    const track = (
      policy: string,
      metric: aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
      target: number,
    ) =>
      new aws.appautoscaling.Policy(
        `${name}-${policy}`,
        {
          policyType: "TargetTrackingScaling",
          serviceNamespace: scaling.serviceNamespace,
          scalableDimension: scaling.scalableDimension,
          resourceId: scaling.resourceId,
          targetTrackingScalingPolicyConfiguration: {
            predefinedMetricSpecification: metric,
            targetValue: target,
            scaleOutCooldown: 60,
            scaleInCooldown: 180,
          },
        },
        child,
      );
    track("cpu", { predefinedMetricType: "ECSServiceAverageCPUUtilization" }, targetCpuPercent);
    if (args.requestScaling) {
      const { resourceLabel, requestsPerTarget } = args.requestScaling;
      track("requests", { predefinedMetricType: "ALBRequestCountPerTarget", resourceLabel }, requestsPerTarget);
    }

    this.registerOutputs({ serviceName: this.serviceName });
  }
}
