import { databaseUrlVariable, migrateCommand } from "@inv/service-catalog";
import * as command from "@pulumi/command";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CpuArchitecture } from "./config.js";
import { rdsCaBundlePath } from "./data.js";
import { fargateTask } from "./fargate.js";
import type { ProcessName } from "./processes.js";
import type { StoredSecret } from "./secrets.js";

/** The container (and task family suffix, log stream prefix) of the migration task. */
export const migrateContainer = "migrate";
/** `aws ecs wait tasks-stopped` gives up after 10 minutes; it is asked again this many times before the update fails. */
export const migrationWaitRounds = 6;

export interface DatabaseMigrationArgs {
  image: pulumi.Input<string>;
  imageRepositoryArn: pulumi.Input<string> | undefined;
  /** Changes exactly when the image does: the migration runs again for every new image. */
  imageDigest: pulumi.Input<string>;
  cpuArchitecture: CpuArchitecture;
  cpu: string;
  memory: string;
  namePrefix: string;
  logRetentionDays: number;
  logLevel: string;
  clusterArn: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  /** DATABASE_ADMIN_URL: the master user, which creates each service's role. */
  adminUrlSecret: StoredSecret;
  /** `<NAME>_DATABASE_URL` of every data-owning service: the role to create (or update) and migrate as. */
  serviceUrlSecrets: Partial<Record<ProcessName, StoredSecret>>;
  /** What must exist before the task can run: its network path out (NAT, VPC endpoints), its security rules, the database. */
  prerequisites: pulumi.Input<pulumi.Resource>[];
}

/**
 * The one-off migration task (`apps/migrate`), run to completion before any ECS service is updated: it creates each
 * data-owning service's role from its URL and migrates that service's schema as that role, then exits 0. `pulumi up`
 * starts it with the AWS CLI, waits for it to stop and fails on any other exit code, so no service rolls onto an
 * image whose schema is not in place. It runs again whenever the image or the task definition changes (a new
 * password, a new service). Old tasks still serve while it runs: migrations must stay compatible with the release
 * before (see README, "Migrations").
 */
export class DatabaseMigration extends pulumi.ComponentResource {
  /** Completes when the migration has finished successfully: every ECS service depends on it. */
  readonly completed: command.local.Command;
  readonly taskDefinitionArn: pulumi.Output<string>;

  constructor(name: string, args: DatabaseMigrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:DatabaseMigration", name, {}, opts);

    const serviceUrls = Object.entries(args.serviceUrlSecrets).map(([process, secret]) => [databaseUrlVariable(process as ProcessName), secret] as const);
    const { taskDefinition, logGroup } = fargateTask(
      name,
      {
        processName: migrateContainer,
        image: args.image,
        imageRepositoryArn: args.imageRepositoryArn,
        cpuArchitecture: args.cpuArchitecture,
        cpu: args.cpu,
        memory: args.memory,
        namePrefix: args.namePrefix,
        logRetentionDays: args.logRetentionDays,
        container: {
          command: migrateCommand(Number(args.memory)),
          environment: { LOG_LEVEL: args.logLevel, NODE_EXTRA_CA_CERTS: rdsCaBundlePath },
          secrets: { DATABASE_ADMIN_URL: args.adminUrlSecret, ...Object.fromEntries(serviceUrls) },
        },
      },
      this,
    );
    this.taskDefinitionArn = taskDefinition.arn;

    const region = aws.getRegionOutput({}, { parent: this }).region;
    this.completed = new command.local.Command(
      `${name}-run`,
      {
        interpreter: ["/bin/sh", "-c"],
        create: migrationScript,
        environment: {
          REGION: region,
          CLUSTER: args.clusterArn,
          TASK_DEFINITION: taskDefinition.arn,
          SUBNETS: pulumi.all(args.subnetIds).apply((ids) => ids.join(",")),
          SECURITY_GROUP: args.securityGroupId,
          LOG_GROUP: logGroup.name,
          WAIT_ROUNDS: String(migrationWaitRounds),
        },
        // A new image (and anything else that makes a new task definition revision) runs the migration again.
        triggers: [args.imageDigest, taskDefinition.arn],
      },
      { parent: this, dependsOn: args.prerequisites },
    );
    this.registerOutputs({ taskDefinitionArn: this.taskDefinitionArn });
  }
}

/**
 * Runs the migration task once on Fargate in the private subnets and fails unless its container exits 0. Needs the
 * AWS CLI (v2) and credentials for the stack's account where `pulumi up` runs; reads REGION, CLUSTER, TASK_DEFINITION,
 * SUBNETS (comma-separated), SECURITY_GROUP, LOG_GROUP and WAIT_ROUNDS.
 */
export const migrationScript = `set -eu
started=$(aws ecs run-task --region "$REGION" --cluster "$CLUSTER" --task-definition "$TASK_DEFINITION" \\
  --launch-type FARGATE --count 1 --started-by pulumi-migrate --propagate-tags TASK_DEFINITION \\
  --network-configuration "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}" \\
  --query '[tasks[0].taskArn, failures[0].reason]' --output text)
task=$(printf '%s\\n' "$started" | cut -f1)
if [ -z "$task" ] || [ "$task" = "None" ]; then
  echo "the migration task did not start: $(printf '%s\\n' "$started" | cut -f2-)" >&2
  exit 1
fi
echo "migration task $task started; its log: $LOG_GROUP"
rounds=0
until aws ecs wait tasks-stopped --region "$REGION" --cluster "$CLUSTER" --tasks "$task"; do
  rounds=$((rounds + 1))
  if [ "$rounds" -ge "$WAIT_ROUNDS" ]; then
    echo "migration task $task has not stopped after $rounds waits; it is left running, and no service was updated" >&2
    exit 1
  fi
done
stopped=$(aws ecs describe-tasks --region "$REGION" --cluster "$CLUSTER" --tasks "$task" \\
  --query "tasks[0].[containers[?name=='${migrateContainer}'].exitCode | [0], stoppedReason]" --output text)
code=$(printf '%s\\n' "$stopped" | cut -f1)
if [ "$code" != "0" ]; then
  echo "migration task $task failed with exit code $code ($(printf '%s\\n' "$stopped" | cut -f2-)); see $LOG_GROUP" >&2
  exit 1
fi
echo "migration task $task finished"
`;
